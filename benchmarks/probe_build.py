"""One build_model in a fresh process, timed: prints {"import_s": ..., "build_s": ...} as JSON.

Run by bench_core.py with SYMCOST_CACHE_DIR set (empty for a cold build,
filled by an earlier run for a warm one), so nothing a process keeps in
memory (the parsed pack, SymPy's caches) helps:

    python benchmarks/probe_build.py MODEL HARDWARE STATS [--only NAME ...] [--vary NAME ...]
"""

from __future__ import annotations

import argparse
import json
import time

started = time.perf_counter()
from symcost import build_model  # noqa: E402 - the import is part of what is timed

imported = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs=3)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--vary", nargs="*")
    args = parser.parse_args()
    start = time.perf_counter()
    build_model(*args.files, only=args.only, vary=args.vary)
    print(json.dumps({"import_s": imported - started, "build_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
