#!/usr/bin/env python3
"""linear-collapse against timm's own fusion, side by side in one run: for each of timm's
re-parameterizable models that export.py wrote (`<model>.<exporter>.onnx` and timm's fused
`<model>_fused.<exporter>.onnx`), the seconds timm's `reparameterize_model` takes on the PyTorch model,
the seconds and peak memory the CLI takes on the unfused ONNX file (read, collapse, check, write), the
nodes, parameters and multiply-adds of both results, and how far our output is from timm's fused model's in
onnxruntime.

    python scripts/real_models/timm_compare.py --cli target/release/linear-collapse --dir /work/suite224 \\
        [--exporter legacy] [--repeat 3]

Times are medians of --repeat runs; the machine's other work moves them, so compare within one run.
Prints a markdown table.
"""
import argparse
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402
import export  # noqa: E402


def timm_seconds(name, size, repeat):
    """Median seconds of timm's reparameterize_model on a fresh copy of the model (eval mode)."""
    import torch
    from timm.utils.model import reparameterize_model
    torch.manual_seed(export.seed_of(name))
    model = export.build(name, export.MODELS[name], size)
    export.randomise_norms(model)
    times = []
    for _ in range(repeat):
        m = copy.deepcopy(model)
        t0 = time.perf_counter()
        reparameterize_model(m)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cli_seconds(cli, src, dst, repeat):
    """Median seconds, the largest peak memory, and the multiply-adds of --repeat CLI runs."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", cli, "collapse", str(src), "-o", str(dst)],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1])
        peak_kb = int(proc.stderr.strip().splitlines()[-1])
        m = re.search(r"^total: .*multiply-adds ([\d,]+)(?: -> ([\d,]+))?$", proc.stdout, re.M)
        macs = [int(m.group(1).replace(",", "")), int((m.group(2) or m.group(1)).replace(",", ""))]
        runs.append((seconds, peak_kb, macs))
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def fused_macs(cli, path):
    """The multiply-adds of timm's fused model, as the CLI counts them (inspect's totals)."""
    out = subprocess.run([cli, "inspect", str(path)], capture_output=True, text=True).stdout
    m = re.search(r"^total: .*multiply-adds ([\d,]+)", out, re.M)
    return int(m.group(1).replace(",", "")) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--exporter", default="legacy")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    manifest = json.loads((a.dir / "manifest.json").read_text())
    size = manifest["meta"]["size"]
    names = sorted({e["model"] for e in manifest["files"] if e["model"].endswith("_fused")})
    rows = []
    out_dir = Path(tempfile.mkdtemp(prefix="timm_compare_"))
    for fused in names:
        name = fused[: -len("_fused")]
        src = a.dir / f"{name}.{a.exporter}.onnx"
        ref = a.dir / f"{fused}.{a.exporter}.onnx"
        if not (src.exists() and ref.exists()):
            continue
        dst = out_dir / f"{name}.onnx"
        ours_s, peak_kb, macs = cli_seconds(a.cli, src, dst, a.repeat)
        timm_s = timm_seconds(name, size, a.repeat)
        x = np.load(a.dir / f"{name}.inputs.npy")
        cmp = check.compare_models(ref, dst, x)
        nodes, params = check.graph_stats(dst)
        t_nodes, t_params = check.graph_stats(ref)
        rows.append(dict(model=name, nodes=(check.graph_stats(src)[0], nodes, t_nodes),
                         params=(check.graph_stats(src)[1], params, t_params),
                         macs=(macs[0], macs[1], fused_macs(a.cli, ref)), ours_s=ours_s, timm_s=timm_s,
                         peak_mb=peak_kb / 1024, file_mb=src.stat().st_size / 2**20, rel=cmp["rel"]))
        print(f"{name}: ours {ours_s:.2f} s, timm {timm_s:.2f} s", file=sys.stderr, flush=True)
    print(f"| model ({a.exporter}, {size}x{size}) | nodes: before / ours / timm | parameters: before / ours / "
          "timm | multiply-adds: before / ours / timm | ours (s) | timm (s) | peak / file (MB) | "
          "max diff vs timm (of output scale) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        fmt = lambda t: " / ".join(f"{v:,}" if v is not None else "-" for v in t)  # noqa: E731
        print(f"| {r['model']} | {fmt(r['nodes'])} | {fmt(r['params'])} | {fmt(r['macs'])} | "
              f"{r['ours_s']:.2f} | {r['timm_s']:.2f} | {r['peak_mb']:.0f} / {r['file_mb']:.0f} | {r['rel']:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
