#!/usr/bin/env python3
"""The real-model suite: every model export.py wrote (and the onnx package's "light" model-zoo files)
collapsed by the command line, then compared with the original in onnxruntime (check.py's logic).

    python scripts/real_models/run_suite.py --cli target/release/linear-collapse --dir /work/suite \\
        [--out-dir OUT] [--only SUBSTR] [--json FILE] [--timeout 300] [--no-light] [-- EXTRA CLI ARGS]

For each model: `CLI collapse IN -o OUT [EXTRA CLI ARGS]` with a timeout; the wall seconds, the exit status
and the last line of its stderr are recorded; when it succeeds, OUT is compared with IN on the model's
inputs (DIR/<model>.inputs.npy; for the light models a seeded standard-normal input of the declared
shape). The light models (onnx/backend/test/data/light/light_*.onnx beside the installed onnx package)
are old Caffe2 conversions: opset 9, weights made by ConstantOfShape nodes, initializers listed as graph
inputs. Their weights are constants (every channel alike), so their outputs hardly depend on the input
(mostly a uniform softmax): for them the suite tests the import; the numeric check is weak. Collapsed
models go to a temporary directory and are deleted after their check unless --out-dir is given. --only
keeps the models whose file name contains SUBSTR.

Beyond agreeing in onnxruntime, a model passes only when the CLI's total multiply-adds and the file's
parameters after are no more than before (unless `-- --force` is given), and a timm re-parameterizable model (one with a `<model>_fused`
export from export.py) only when it comes out with no more nodes and parameters than timm's own fused
model.

Prints a progress line per model on stderr, then a markdown table on stdout: model, exporter, opset,
nodes before/after, params before/after (initializer + Constant elements), multiply-adds before/after (the
CLI's totals), timm's fused nodes and params, the CLI's import and collapse seconds, the whole CLI run's
seconds, result: ok / CLI exit N: message (for a panic
its message, not the backtrace's last line) / CLI timeout / mismatch max-abs X / costlier / larger than
timm's fused model / check error: why. Exports that failed in export.py are listed as skipped and do not
count. --json FILE writes the rows. Exit status: 0 only if every model passed; 1 otherwise; 2 if the CLI
is not an executable file.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402

DEFAULT_TIMEOUT = 300


def manifest_cases(d):
    """One case per manifest entry: dict(name, model, exporter, opset, path, inputs, notes, skip)."""
    manifest = json.loads((d / "manifest.json").read_text())
    cases = []
    for e in manifest["files"]:
        case = dict(name=e["file"] or f"{e['model']}.{e.get('exporter', '-')}", model=e["model"],
                    exporter=e.get("exporter", "-"), opset=e.get("opset"), notes=e.get("notes", []),
                    path=d / e["file"] if e["file"] else None,
                    inputs=d / e["inputs"] if e.get("inputs") else None, skip=None)
        if not e["file"]:
            case["skip"] = f"export failed: {e.get('error', '?')}"
        cases.append(case)
    return cases


def light_cases():
    """The onnx package's light model-zoo files, with their declared input shape."""
    d = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    cases = []
    for f in sorted(glob.glob(str(d / "light_*.onnx"))):
        m = onnx.load(f, load_external_data=False)
        opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), None)
        cases.append(dict(name=os.path.basename(f), model=Path(f).stem, exporter="model zoo", opset=opset,
                          notes=["initializers as inputs", "ConstantOfShape weights"], path=Path(f),
                          inputs=None, input_shape=declared_input_shape(m), skip=None))
    return cases


def declared_input_shape(model):
    """The shape of the one graph input that is not an initializer (symbolic dims -> 1)."""
    inits = {t.name for t in model.graph.initializer}
    data = [i for i in model.graph.input if i.name not in inits]
    return [d.dim_value or 1 for d in data[0].type.tensor_type.shape.dim] if data else None


def case_inputs(case):
    if case["inputs"] is not None:
        return np.load(case["inputs"])
    seed = zlib.crc32(case["model"].encode())
    return np.random.default_rng(seed).standard_normal(case["input_shape"]).astype(np.float32)


def run_cli(cli, src, dst, extra, timeout):
    """(exit status, or None on timeout, -1 if it could not start; wall seconds; last line of stderr;
    the message to show: a panic's message, else the last stderr line that is not a `note:`; the
    multiply-adds before and after from the CLI's total line, or None)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run([cli, "collapse", str(src), "-o", str(dst), *extra], capture_output=True,
                           text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0, "", f"timeout after {timeout} s", None, None
    except OSError as e:
        return -1, time.perf_counter() - t0, "", f"could not start: {e}", None, None
    lines = [ln.strip() for ln in p.stderr.splitlines() if ln.strip()]
    return (p.returncode, time.perf_counter() - t0, (lines[-1] if lines else ""), cli_message(lines),
            total_macs(p.stdout), stage_seconds(p.stdout))


def stage_seconds(stdout):
    """[import, collapse] seconds from the CLI's `seconds: import A, collapse B, rewrite C` line."""
    m = re.search(r"^seconds: import ([\d.]+), collapse ([\d.]+)", stdout, re.M)
    return [float(m.group(1)), float(m.group(2))] if m else None


def total_macs(stdout):
    """[before, after] from the CLI's `total: ... multiply-adds A -> B` line (A alone when unchanged)."""
    m = re.search(r"^total: .*multiply-adds ([\d,]+)(?: -> ([\d,]+))?$", stdout, re.M)
    if not m:
        return None
    before = int(m.group(1).replace(",", ""))
    return [before, int(m.group(2).replace(",", "")) if m.group(2) else before]


def cli_message(lines):
    """A panic's message (the line after `thread ... panicked at FILE:LINE:COL:`), else the last line that
    is not one of Rust's `note:` lines."""
    for i, ln in enumerate(lines):
        if " panicked at " in ln and i + 1 < len(lines):
            return f"panic: {lines[i + 1]} (at {ln.split(' panicked at ', 1)[1].rstrip(':')})"
    useful = [ln for ln in lines if not ln.startswith("note:")]
    return useful[-1] if useful else (lines[-1] if lines else "")


def run_case(case, cli, out_dir, extra, timeout, keep):
    """One row of the table."""
    row = dict(name=case["name"], model=case["model"], exporter=case["exporter"], opset=case["opset"],
               notes=case["notes"], nodes=[None, None], params=[None, None], macs=None, seconds=None,
               passed=False)
    if case["skip"]:
        row.update(result=f"skipped ({case['skip']})", skipped=True)
        return row
    try:
        row["nodes"][0], row["params"][0] = check.graph_stats(case["path"])
    except Exception as e:  # noqa: BLE001
        row.update(result=f"cannot read original: {check.one_line(e)}")
        return row
    dst = out_dir / (case["path"].stem + ".collapsed.onnx")
    status, seconds, last_line, message, macs, stages = run_cli(cli, case["path"], dst, extra, timeout)
    row.update(seconds=round(seconds, 2), cli_status=status, cli_stderr_last_line=last_line, cli_message=message,
               macs=macs, stages=stages)
    if status != 0:
        row["result"] = f"CLI timeout ({timeout} s)" if status is None else f"CLI exit {status}: {message}"
    else:
        row.update(check_result(case, dst))
        if row["passed"] and "--force" not in extra:
            params = row["params"]
            if macs is None or macs[1] > macs[0]:
                row.update(passed=False, result=f"costlier: multiply-adds {macs}")
            elif None in params or params[1] > params[0]:
                row.update(passed=False, result=f"costlier: params {params}")
    if not keep:
        remove_model(dst)
    return row


def check_result(case, dst):
    """check.py's comparison of the collapsed model with the original, as row fields."""
    try:
        X = case_inputs(case)
    except Exception as e:  # noqa: BLE001
        return dict(result=f"check error: inputs: {check.one_line(e)}")
    res = check.compare_models(case["path"], dst, X)
    fields = dict(nodes=list(res["nodes"]), params=list(res["params"]), max_abs=res["max_abs"], rel=res["rel"])
    if res["status"] == 0:
        fields.update(result="ok", passed=True)
    elif res["status"] == 1:
        detail = f"max-abs {res['max_abs']:.3g} (rel {res['rel']:.2g})" if res["max_abs"] is not None else res["why"]
        fields.update(result=f"mismatch {detail}")
    else:
        fields.update(result=f"check error: {res['why']}")
    return fields


def remove_model(path):
    """A collapsed model and any external-data files the CLI wrote beside it."""
    for f in glob.glob(str(path) + "*"):
        if os.path.isfile(f):
            os.unlink(f)


def fmt_pair(pair):
    a, b = pair
    return f"{'-' if a is None else a} / {'-' if b is None else b}"


def compare_with_fused(rows):
    """timm's re-parameterizable models against timm's own fused export (`<model>_fused`, same exporter):
    the collapsed model must have no more nodes and parameters. Adds `fused` (nodes, params) to each such
    row and fails it when it is larger."""
    fused = {(r["model"], r["exporter"]): r for r in rows if r["model"].endswith("_fused")}
    for r in rows:
        f = fused.get((r["model"] + "_fused", r["exporter"]))
        if f is None or f["nodes"][0] is None:
            continue
        r["fused"] = [f["nodes"][0], f["params"][0]]
        if r["passed"] and (r["nodes"][1] > f["nodes"][0] or r["params"][1] > f["params"][0]):
            r.update(passed=False, result=f"larger than timm's fused model: nodes {r['nodes'][1]} vs "
                                          f"{f['nodes'][0]}, params {r['params'][1]} vs {f['params'][0]}")


def table(rows):
    lines = ["| model | exporter | opset | nodes before / after | params before / after | "
             "multiply-adds before / after | timm fused nodes, params | import / collapse (s) | CLI (s) | result |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        result = r["result"].replace("|", "\\|")
        macs = fmt_pair(r["macs"]) if r.get("macs") else "-"
        fused = f"{r['fused'][0]}, {r['fused'][1]}" if r.get("fused") else "-"
        stages = f"{r['stages'][0]:.2f} / {r['stages'][1]:.2f}" if r.get("stages") else "-"
        lines.append(f"| {r['model']} | {r['exporter']} | {r['opset'] or '-'} | {fmt_pair(r['nodes'])} | "
                     f"{fmt_pair(r['params'])} | {macs} | {fused} | {stages} | "
                     f"{'-' if r['seconds'] is None else r['seconds']} | {result} |")
    return "\n".join(lines)


def split_extra(argv):
    """(arguments for this script, extra arguments for the CLI after `--`)."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def main():
    argv, extra = split_extra(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="the linear-collapse binary")
    ap.add_argument("--dir", required=True, type=Path, help="export.py's output (with manifest.json)")
    ap.add_argument("--out-dir", type=Path, help="keep the collapsed models here (default: temporary, deleted)")
    ap.add_argument("--only", default="", help="only the models whose file name contains this")
    ap.add_argument("--json", type=Path, help="write the rows to this file")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per CLI run")
    ap.add_argument("--no-light", action="store_true", help="leave out the onnx package's light models")
    a = ap.parse_args(argv)
    cli = os.path.abspath(a.cli)
    if not os.access(cli, os.X_OK):
        print(f"error: {cli} is not an executable file", file=sys.stderr)
        return 2
    cases = manifest_cases(a.dir) + ([] if a.no_light else light_cases())
    cases = [c for c in cases if a.only in c["name"]]
    out_dir = a.out_dir or Path(tempfile.mkdtemp(prefix="real_models_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for i, case in enumerate(cases, 1):
            row = run_case(case, cli, out_dir, extra, a.timeout, keep=a.out_dir is not None)
            print(f"[{i}/{len(cases)}] {case['name']}: {row['result']}", file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        if a.out_dir is None:
            shutil.rmtree(out_dir, ignore_errors=True)
    compare_with_fused(rows)
    print(table(rows))
    ran = [r for r in rows if not r.get("skipped")]
    passed = sum(r["passed"] for r in ran)
    print(f"\n{passed}/{len(ran)} passed, {len(ran) - passed} failed, {len(rows) - len(ran)} skipped "
          f"(export failed); CLI: {cli} {' '.join(extra)}")
    if a.json:
        a.json.write_text(json.dumps(dict(cli=cli, extra=extra, rows=rows), indent=1) + "\n")
    return 0 if ran and passed == len(ran) else 1


if __name__ == "__main__":
    sys.exit(main())
