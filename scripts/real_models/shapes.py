#!/usr/bin/env python3
"""Check the importer's shape inference against onnxruntime: every value a node produces, as computed by
`linear-collapse inspect --shapes`, against the shape onnxruntime gives it when the model runs.

    python3 scripts/real_models/shapes.py --cli target/release/linear-collapse [--light] MODEL.onnx [...]

--light adds the model-zoo files the onnx package ships for its backend tests (light_*.onnx).

Each model runs once with every node output added as a graph output, on a seeded random input of the
declared shape (symbolic dims are 1). A value passes when its dims are unknown to the importer (it says
so) or equal onnxruntime's; a value whose dims the importer states wrongly is a failure. Prints one line
per model (values known / total, wrong ones) and exits 1 on any wrong shape, 2 when a model cannot run.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

NP = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


def ours(cli, path):
    out = subprocess.run([cli, "inspect", "--shapes", path], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed")
    return [json.loads(line) for line in out.stdout.splitlines()]


def feeds(model):
    inits = {t.name for t in model.graph.initializer}
    rng = np.random.default_rng(0)
    out = {}
    for v in model.graph.input:
        if v.name in inits:
            continue
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in t.shape.dim]
        dt = NP.get(t.elem_type, np.float32)
        out[v.name] = rng.standard_normal(dims).astype(dt) if dt in (np.float32, np.float64, np.float16) \
            else np.zeros(dims, dt)
    return out


def actual(path, names):
    model = onnx.load(path)
    have = {o.name for o in model.graph.output}
    for name in names:
        if name not in have:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, feeds(model))
    return {o.name: list(v.shape) for o, v in zip(sess.get_outputs(), outs)}


def check(cli, path):
    mine = ours(cli, path)
    theirs = actual(path, [v["name"] for v in mine])
    wrong = [(v["name"], v["dims"], theirs[v["name"]]) for v in mine
             if v["dims"] is not None and v["name"] in theirs and v["dims"] != theirs[v["name"]]]
    known = sum(v["dims"] is not None for v in mine)
    return known, len(mine), wrong


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--light", action="store_true", help="add the onnx package's light model-zoo files")
    ap.add_argument("models", nargs="*")
    args = ap.parse_args()
    light = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/light/light_*.onnx")))
    status = 0
    for path in args.models + (light if args.light else []):
        try:
            known, total, wrong = check(args.cli, path)
        except Exception as e:  # noqa: BLE001 - one line per model, whatever failed
            print(f"{path}: could not check: {e}")
            status = max(status, 2)
            continue
        print(f"{path}: {known}/{total} values known, {len(wrong)} wrong" +
              "".join(f"\n    {n}: ours {a}, onnxruntime {b}" for n, a, b in wrong[:10]))
        if wrong:
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
