#!/usr/bin/env python3
"""Hostile mutations of real exports: each model export.py wrote (resnet18 and mobileone_s0 legacy,
resnet18 and repvgg_a0 dynamo by default) mutated eight ways (Conv pads 2^40, a kernel_shape that
contradicts the weight, strides 0, group 0, opset 99, an op 'FooBar', an input naming nothing, the file cut
in half), then collapsed by the CLI under `ulimit -v 4 GiB` and a 60 s timeout. Each must be refused with
exit 2, one line on stderr and no output file.

    python scripts/real_models/hostile_real.py --cli target/release/linear-collapse --dir /work/suite
"""
import argparse
import copy
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
from onnx import helper

MODELS = ["resnet18.legacy", "resnet18.dynamo", "mobileone_s0.legacy", "repvgg_a0.dynamo"]


def first_conv(m):
    return next(n for n in m.graph.node if n.op_type == "Conv")


def set_attr(n, name, value):
    kept = [a for a in n.attribute if a.name != name]
    del n.attribute[:]
    n.attribute.extend(kept)
    n.attribute.append(helper.make_attribute(name, value))


def set_opset(m, version):
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = version


MUTATIONS = {
    "pads_huge": lambda m: set_attr(first_conv(m), "pads", [1 << 40] * 4),
    "kernel_contradicts": lambda m: set_attr(first_conv(m), "kernel_shape", [5, 5]),
    "strides_zero": lambda m: set_attr(first_conv(m), "strides", [0, 0]),
    "group_zero": lambda m: set_attr(first_conv(m), "group", 0),
    "opset_future": lambda m: set_opset(m, 99),
    "unknown_op": lambda m: setattr(m.graph.node[len(m.graph.node) // 2], "op_type", "FooBar"),
    "input_missing": lambda m: next(n for n in m.graph.node[3:] if n.input).input.__setitem__(0, "nowhere"),
}


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    passed, failed = 0, 0
    for name in args.models.split(","):
        base = onnx.load(args.dir / f"{name}.onnx", load_external_data=False)
        cases = {}
        for k, f in MUTATIONS.items():
            m = copy.deepcopy(base)
            f(m)
            cases[k] = m.SerializeToString()
        whole = base.SerializeToString()
        cases["truncated"] = whole[: len(whole) // 2]
        for k, data in cases.items():
            src, out = tmp / f"{name}.{k}.onnx", tmp / "out.onnx"
            src.write_bytes(data)
            p = subprocess.run([args.cli, "collapse", str(src), "-o", str(out)], capture_output=True,
                               text=True, timeout=60, preexec_fn=limit)
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            ok = p.returncode == 2 and len(lines) == 1 and not out.exists()
            passed += ok
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}.{k}: exit {p.returncode}: {lines[0][:160] if lines else ''}")
            out.unlink(missing_ok=True)
    print(f"{passed} refused in one line, {failed} not")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
