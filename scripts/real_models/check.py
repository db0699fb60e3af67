#!/usr/bin/env python3
"""Compare a collapsed model with its original in onnxruntime, on saved inputs (the real-model suite).

    python scripts/real_models/check.py ORIGINAL.onnx COLLAPSED.onnx INPUTS.npy [--rtol 1e-4]

Both models run in onnxruntime (CPUExecutionProvider, one intra-op thread) on the samples of INPUTS.npy
(the first axis is the batch). A model whose input has a fixed batch of 1 runs one sample at a time; a
candidate whose fixed per-sample input shape differs but has as many elements gets the samples reshaped.
Every graph output is compared, matched by position (both models must have as many, of the same shapes):
output k passes when max|cand - ref| <= rtol * max(1e-6, max|ref|), i.e. relative to the output's scale.
Graph inputs that are initializers (keep_initializers_as_inputs, old model-zoo files) are not fed.

Prints one line: PASS/FAIL, the worst output's max-abs and relative error, node counts and parameter
counts (initializer elements plus Constant-node tensor elements) before/after.
Exit status: 0 = every output within tolerance; 1 = mismatch; 2 = could not load or run a model.
run_suite.py imports compare_models() from here.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort

RTOL = 1e-4
SCALE_FLOOR = 1e-6


def graph_stats(path):
    """(node count, parameter count) of a model file; external data is not read (dims suffice)."""
    model = onnx.load(str(path), load_external_data=False)
    return len(model.graph.node), count_params(model.graph)


def count_params(graph):
    """Elements of the initializers plus those of the Constant nodes' tensors."""
    n = sum(int(np.prod(t.dims)) for t in graph.initializer)
    for node in graph.node:
        if node.op_type == "Constant":
            n += sum(constant_size(a) for a in node.attribute)
    return n


def constant_size(attr):
    if attr.HasField("t"):
        return int(np.prod(attr.t.dims))
    if attr.HasField("sparse_tensor"):
        return int(np.prod(attr.sparse_tensor.dims))
    return len(attr.floats) + len(attr.ints) + len(attr.strings) or 1  # value_float(s)/int(s)/string(s)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3  # no warning per initializer listed as a graph input
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


NP_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}


def fit_input(inp, X, path):
    """X cast to the input's type and reshaped to its fixed per-sample shape (same element count)."""
    X = X.astype(NP_TYPES.get(inp.type, X.dtype), copy=False)
    per = inp.shape[1:]
    if all(isinstance(d, int) for d in per) and list(per) != list(X.shape[1:]):
        if int(np.prod(per)) != int(np.prod(X.shape[1:])):
            raise ValueError(f"{path}: input per-sample shape {per} does not fit samples of shape {list(X.shape[1:])}")
        X = X.reshape(X.shape[0], *per)
    return X


def run(path, X):
    """All outputs of the model on the samples of X (one at a time if its batch is fixed to 1)."""
    sess = session(path)
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        raise ValueError(f"{path}: expected one data input, got {[i.name for i in inputs]}")
    inp = inputs[0]
    X = fit_input(inp, X, path)
    batch = inp.shape[0] if inp.shape else None
    if isinstance(batch, int) and batch != X.shape[0]:
        if batch != 1:
            raise ValueError(f"{path}: fixed batch {batch}, the inputs have {X.shape[0]} samples")
        per_sample = [sess.run(None, {inp.name: X[i:i + 1]}) for i in range(X.shape[0])]
        return [np.concatenate([s[k] for s in per_sample]) if per_sample[0][k].ndim else
                np.stack([s[k] for s in per_sample]) for k in range(len(per_sample[0]))]
    return sess.run(None, {inp.name: X})


def output_error(ref, cand):
    """(max |cand - ref|, scale = max(SCALE_FLOOR, max |ref|)); non-finite where ref is finite -> inf."""
    ref = np.asarray(ref, dtype=np.float64)
    cand = np.asarray(cand, dtype=np.float64)
    same = (ref == cand) | (np.isnan(ref) & np.isnan(cand))
    d = np.where(same, 0.0, np.abs(cand - ref))
    d = np.where(np.isnan(d), np.inf, d)
    finite = ref[np.isfinite(ref)]
    scale = max(SCALE_FLOOR, float(np.abs(finite).max()) if finite.size else 0.0)
    return (float(d.max()) if d.size else 0.0), scale


def compare_outputs(refs, cands, rtol):
    """The worst output: dict(ok, max_abs, rel, output, why)."""
    if len(refs) != len(cands):
        return dict(ok=False, why=f"{len(cands)} outputs, the original has {len(refs)}")
    worst = dict(ok=True, max_abs=0.0, rel=0.0, output=None)
    for k, (r, c) in enumerate(zip(refs, cands)):
        if np.shape(r) != np.shape(c):
            return dict(ok=False, why=f"output {k} has shape {list(np.shape(c))}, the original {list(np.shape(r))}")
        max_abs, scale = output_error(r, c)
        rel = max_abs / scale
        if rel >= worst["rel"]:
            worst.update(max_abs=max_abs, rel=rel, output=k)
        worst["ok"] = worst["ok"] and max_abs <= rtol * scale
    return worst


def compare_models(original, candidate, X, rtol=RTOL, refs=None):
    """Everything check.py reports, as a dict: status (0 pass, 1 mismatch, 2 could not load/run), ok,
    max_abs, rel, why, nodes (before, after), params (before, after). refs: the original's outputs if
    already computed."""
    res = dict(status=2, ok=False, max_abs=None, rel=None, why="", nodes=(None, None), params=(None, None))
    try:
        n0, p0 = graph_stats(original)
        res.update(nodes=(n0, None), params=(p0, None))
        n1, p1 = graph_stats(candidate)
        res.update(nodes=(n0, n1), params=(p0, p1))
        refs = run(original, X) if refs is None else refs
        cands = run(candidate, X)
    except Exception as e:  # noqa: BLE001 - any load/run failure is exit status 2
        res["why"] = f"{type(e).__name__}: {one_line(e)}"
        return res
    cmp = compare_outputs(refs, cands, rtol)
    res.update(status=0 if cmp["ok"] else 1, ok=cmp["ok"], max_abs=cmp.get("max_abs"), rel=cmp.get("rel"),
               why=cmp.get("why", ""), outputs=len(refs))
    return res


def one_line(e, limit=500):
    """The first non-empty line of an exception's message, cut at limit characters."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return (lines[0] if lines else "")[:limit]


def summary(res, rtol=RTOL):
    word = {0: "PASS", 1: "FAIL", 2: "ERROR"}[res["status"]]
    parts = []
    if res["max_abs"] is not None:
        parts.append(f"max_abs={res['max_abs']:.3e} rel={res['rel']:.3e} (tol {rtol:g} of the output scale)")
    if res["why"]:
        parts.append(res["why"])
    (n0, n1), (p0, p1) = res["nodes"], res["params"]
    parts.append(f"nodes {n0} -> {n1}; params {p0} -> {p1}")
    return f"{word}: " + "; ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("original")
    ap.add_argument("collapsed")
    ap.add_argument("inputs", help="INPUTS.npy, the first axis is the batch")
    ap.add_argument("--rtol", type=float, default=RTOL, help=f"relative to max|ref| (default {RTOL})")
    a = ap.parse_args()
    try:
        X = np.load(a.inputs)
    except Exception as e:  # noqa: BLE001
        print(f"ERROR: {a.inputs}: {type(e).__name__}: {one_line(e)}")
        return 2
    res = compare_models(a.original, a.collapsed, X, a.rtol)
    print(summary(res, a.rtol))
    return res["status"]


if __name__ == "__main__":
    sys.exit(main())
