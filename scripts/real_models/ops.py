#!/usr/bin/env python3
"""The ONNX op types of the real-model suite: for each exporter (legacy, dynamo, and the onnx package's
light model-zoo files), how many models use each op type, and the opset of every file.

    python scripts/real_models/ops.py /work/suite [--no-light] [--json FILE]

Reads DIR/manifest.json (export.py) and the files it lists (weights are not loaded). Op types outside
the default domain are printed as domain::Op. Node counts are summed over the models.
"""
import argparse
import collections
import json
import sys
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_suite import light_cases, manifest_cases  # noqa: E402


def ops_of(path):
    """(default-domain opset, Counter of op types) of one file, including nodes inside subgraphs."""
    model = onnx.load(str(path), load_external_data=False)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    ops = collections.Counter()
    stack = [model.graph]
    while stack:
        g = stack.pop()
        for n in g.node:
            ops[f"{n.domain}::{n.op_type}" if n.domain not in ("", "ai.onnx") else n.op_type] += 1
            stack += [a.g for a in n.attribute if a.HasField("g")] + list(
                sub for a in n.attribute for sub in a.graphs)
    return opset, ops


def inventory(cases):
    """{exporter: {op: [models using it, total nodes]}}, [(file, exporter, opset, nodes)]."""
    by_exporter = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    files = []
    for c in cases:
        if c["skip"]:
            continue
        opset, ops = ops_of(c["path"])
        files.append((c["name"], c["exporter"], opset, sum(ops.values())))
        for op, n in ops.items():
            by_exporter[c["exporter"]][op][0] += 1
            by_exporter[c["exporter"]][op][1] += n
    return by_exporter, files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--no-light", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    cases = manifest_cases(a.dir) + ([] if a.no_light else light_cases())
    by_exporter, files = inventory(cases)
    exporters = list(by_exporter)
    n_models = {e: sum(1 for f in files if f[1] == e) for e in exporters}
    all_ops = sorted({op for e in exporters for op in by_exporter[e]})
    print("| op | " + " | ".join(f"{e} ({n_models[e]} models): models, nodes" for e in exporters) + " |")
    print("|---|" + "---|" * len(exporters))
    for op in all_ops:
        cells = [f"{by_exporter[e][op][0]}, {by_exporter[e][op][1]}" if op in by_exporter[e] else "-"
                 for e in exporters]
        print(f"| {op} | " + " | ".join(cells) + " |")
    print(f"\n{len(all_ops)} op types\n\n| file | exporter | opset | nodes |\n|---|---|---|---|")
    for name, exporter, opset, nodes in files:
        print(f"| {name} | {exporter} | {opset} | {nodes} |")
    if a.json:
        a.json.write_text(json.dumps(dict(ops={e: dict(v) for e, v in by_exporter.items()},
                                          files=files), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
