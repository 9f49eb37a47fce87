"""Refit the calibration bundle shipped with symcost (catalogs/calibration.json).

The bundle is fitted on data/llm_bench_calibration.csv (public measurements,
sources per row). Run after changing the pack, the catalogs or the CSV:

    .venv/bin/python tools/fit_packaged_calibration.py

tests/llm/test_llm_calibration.py checks the committed bundle's coefficients
equal a fresh fit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symcost.packs.llm.calibration import calibrate  # noqa: E402
from symcost.packs.llm.observations import observations  # noqa: E402
from symcost.packs.llm.records import records_from_csv  # noqa: E402

CSV = ROOT / "data" / "llm_bench_calibration.csv"
BUNDLE = ROOT / "catalogs" / "calibration.json"


def main() -> None:
    records = records_from_csv(CSV)
    bundle = calibrate(
        observations(records),
        tags={"source": [CSV.name]},
        n_records=len(records),
        progress=lambda line: print(line, file=sys.stderr),
    )
    BUNDLE.write_text(json.dumps(bundle.as_json(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {BUNDLE.relative_to(ROOT)}: bundle {bundle.bundle_id[:12]}, {bundle.n_observations} figures")


if __name__ == "__main__":
    main()
