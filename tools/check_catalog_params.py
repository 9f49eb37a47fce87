#!/usr/bin/env python3
"""Check the LLM catalogs in catalogs/.

1. Validate each catalog (catalogs/{models,hardware,runtimes,quantizations}.yaml) against its
   JSON Schema (schemas/llm-*.schema.json), plus a single-entry file (a user's own model:
   the entry mapping alone, no wrapper) built from the first model.
2. Cross-checks: unique ids, no alias shared by two entries, runtimes' supported_quant name
   quant_ids, and every model/hardware/runtime/quant value of the calibration CSV resolves to
   exactly one entry.
3. Every hardware entry's compute device has a rated power (gpus[0].tdp_w, or cpu.tdp_w when gpus
   is empty): the LLM estimator's energy figures need it.
4. Per model, the parameter count from the architecture fields (the formula of the LLM
   estimator's formula pack) against the published params_b and active_params_b, with the
   relative error; every model must be within 3 %.

Usage: .venv/bin/python tools/check_catalog_params.py [--csv PATH] [--tolerance 0.03]
Exit status 1 when a check fails.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
KINDS = {  # catalog kind -> (file, schema, id field)
    "models": ("models.yaml", "llm-models.schema.json", "model_id"),
    "hardware": ("hardware.yaml", "llm-hardware.schema.json", "hardware_id"),
    "runtimes": ("runtimes.yaml", "llm-runtimes.schema.json", "runtime_id"),
    "quantizations": ("quantizations.yaml", "llm-quantizations.schema.json", "quant_id"),
}
CSV_COLUMNS = {"models": "model", "hardware": "hardware", "runtimes": "runtime", "quantizations": "quant"}
DEFAULT_CSV = Path("/work/shared/data/llm_bench_calibration.csv")


def param_counts(m: dict) -> tuple[float, float]:
    """(total, active) parameters of a model entry, by the catalog formula."""
    h = m["hidden_size"]
    L = m["layers"]
    nh = m["n_heads"]
    nkv = m["n_kv_heads"]
    hd = m.get("head_dim") or h // nh
    if m["attention"] == "mla":
        a = m["mla"]
        qr, kvr = a["q_lora_rank"], a["kv_lora_rank"]
        rope, nope, vd = a["qk_rope_head_dim"], a["qk_nope_head_dim"], a["v_head_dim"]
        q = h * qr + qr * nh * (nope + rope) if qr > 0 else h * nh * (nope + rope)
        attn = q + h * (kvr + rope) + kvr * nh * (nope + vd) + nh * vd * h
    else:
        attn = h * nh * hd + 2 * h * nkv * hd + nh * hd * h
    mm = 3 if m["mlp"] == "gated" else 2
    dense_mlp = mm * h * m["intermediate_size"]
    moe = m.get("moe") or {}
    emb = m["vocab_size"] * h * (1 if m["tied_embeddings"] else 2)
    norms = 2 * h * L
    if moe.get("enabled"):
        e, k, s = moe["experts"], moe["top_k"], moe.get("shared_experts", 0)
        eis = moe["expert_intermediate_size"]
        n_dense = moe.get("dense_layers", 0)
        n_moe = L - n_dense
        moe_total = (e + s) * mm * h * eis + h * e
        moe_active = (k + s) * mm * h * eis + h * e
    else:
        n_dense, n_moe, moe_total, moe_active = L, 0, 0, 0
    base = emb + norms + L * attn + n_dense * dense_mlp
    return base + n_moe * moe_total, base + n_moe * moe_active


def load_yaml(path: Path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="calibration CSV to resolve (skipped if absent)")
    ap.add_argument("--tolerance", type=float, default=0.03)
    args = ap.parse_args(argv)
    failures: list[str] = []
    catalogs = {}

    # 1. schemas
    print("== schema validation")
    for kind, (fname, sname, id_field) in KINDS.items():
        schema = json.loads((ROOT / "schemas" / sname).read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        data = load_yaml(ROOT / "catalogs" / fname)
        errs = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
        for e in errs[:10]:
            # oneOf (catalog | single entry): report the deepest cause, not the whole document
            e = max(e.context, key=lambda c: len(c.absolute_path)) if e.context else e
            failures.append(f"{fname}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
        print(f"  {fname:20s} against {sname:32s} {'ok' if not errs else f'{len(errs)} error(s)'} ({len(data.get(kind, []))} entries)")
        catalogs[kind] = data.get(kind, [])
        # one entry alone (a user's own file) must validate too; a wrapper-less entry with a
        # wrong field must not
        if catalogs[kind]:
            single = copy.deepcopy(catalogs[kind][0])
            ok_single = jsonschema.Draft202012Validator(schema).is_valid(single)
            single["not_a_field"] = 1
            bad_single = jsonschema.Draft202012Validator(schema).is_valid(single)
            print(f"  {'':20s} single entry {single[id_field]!r}: {'ok' if ok_single else 'REJECTED'}; "
                  f"with an unknown field: {'accepted (BAD)' if bad_single else 'rejected'}")
            if not ok_single or bad_single:
                failures.append(f"{sname}: single entry {catalogs[kind][0][id_field]!r} alone not validated as expected")

    # 2. ids and aliases
    print("== ids and aliases")
    for kind, (_, _, id_field) in KINDS.items():
        names: dict[str, str] = {}
        for entry in catalogs[kind]:
            eid = entry[id_field]
            for n in [eid, *entry.get("aliases", [])]:
                key = n.strip().lower()
                if key in names and names[key] != eid:
                    failures.append(f"{kind}: name {n!r} used by {names[key]} and {eid}")
                names[key] = eid
        ids = [e[id_field] for e in catalogs[kind]]
        if len(ids) != len(set(ids)):
            failures.append(f"{kind}: duplicate ids")
        print(f"  {kind:14s} {len(ids)} entries, {len(names)} names (ids + aliases, case-insensitive), unique")
        catalogs[kind + "_names"] = names
    quant_ids = {q["quant_id"] for q in catalogs["quantizations"]}
    for r in catalogs["runtimes"]:
        for q in r["supported_quant"]:
            if q not in quant_ids:
                failures.append(f"runtime {r['runtime_id']}: supported_quant {q!r} is not a quant_id")

    if args.csv.exists():
        with open(args.csv, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for kind, col in CSV_COLUMNS.items():
            values = sorted({r[col] for r in rows})
            names = catalogs[kind + "_names"]
            missing = [v for v in values if v.strip().lower() not in names]
            for v in missing:
                failures.append(f"CSV {col} {v!r} resolves to no {kind} entry")
            print(f"  CSV {col:9s}: {len(values)} distinct values, {len(values) - len(missing)} resolve")
    else:
        print(f"  (no CSV at {args.csv}; resolution not checked)")

    # 3. rated power of the compute device (energy estimates use it as an upper bound)
    print("== rated power (tdp_w) of each hardware entry's compute device")
    no_tdp = []
    for h in catalogs["hardware"]:
        device = h["gpus"][0] if h["gpus"] else h["cpu"]
        where = "gpus[0]" if h["gpus"] else "cpu"
        if not device.get("tdp_w"):
            no_tdp.append(h["hardware_id"])
            failures.append(f"hardware {h['hardware_id']}: {where}.tdp_w missing")
    n_hw = len(catalogs["hardware"])
    print(f"  {n_hw - len(no_tdp)} of {n_hw} entries have it" + (f"; missing: {', '.join(no_tdp)}" if no_tdp else ""))

    # 4. parameter counts
    print(f"== parameter counts (formula vs published; tolerance {args.tolerance:.0%})")
    print(f"  {'model_id':18s} {'formula B':>10s} {'params_b':>9s} {'err':>7s}   {'active B':>9s} {'active_b':>9s} {'err':>7s}  basis")
    for m in catalogs["models"]:
        total, active = param_counts(m)
        err = total / 1e9 / m["params_b"] - 1
        line = f"  {m['model_id']:18s} {total / 1e9:10.3f} {m['params_b']:9.3f} {err:+7.2%}"
        if abs(err) > args.tolerance:
            failures.append(f"{m['model_id']}: total parameters off by {err:+.2%}")
        if "active_params_b" in m:
            basis = m.get("active_params_basis", "all_weights")
            act = active
            if basis == "excluding_input_embedding":
                act -= m["vocab_size"] * m["hidden_size"]
            aerr = act / 1e9 / m["active_params_b"] - 1
            line += f"   {act / 1e9:9.3f} {m['active_params_b']:9.3f} {aerr:+7.2%}  {basis}"
            if abs(aerr) > args.tolerance:
                failures.append(f"{m['model_id']}: active parameters off by {aerr:+.2%}")
        print(line)

    if failures:
        print("== FAILED")
        for f_ in failures:
            print("  " + f_)
        return 1
    print("== all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
