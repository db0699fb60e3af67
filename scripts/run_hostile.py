#!/usr/bin/env python3
"""Runs the hostile-input suite (`tests/data/hostile/`, made by `scripts/make_hostile.py`) against a
built binary, each command under `ulimit -v 4194304` (4 GiB of address space) and `timeout 60`:

    python3 scripts/run_hostile.py --bin target/release/linear-collapse [--only NAME ...] [--json FILE]

needs onnxruntime and numpy (pip). For each case it runs `collapse` (and `inspect` for an ONNX file) and
prints case / expect / exit / first line of stderr / verdict. A refused case must exit 2 with exactly one
line on stderr that names every culprit of the manifest (`a|b`: either), none of its `forbid` phrases,
says nothing twice ("X: X"), shows no wrapped
integer (18446744073709551615) and no panic, and leaves no file behind. An accepted case must exit 0 and
its output must agree with onnxruntime: on the saved outputs when the manifest has them, else on a seeded
random input run through both files here; a chain spec's Linear must match the saved `weight`/`bias`.
Exit status: 0 when every case passes, 1 otherwise.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "hostile"
ULIMIT_KB = 4194304
TIMEOUT = 60
SIGNALS = {124: "timeout (60 s)", 134: "SIGABRT", 137: "SIGKILL", 139: "SIGSEGV", 101: "panic"}


def run(binary, args):
    """(exit code, stdout, stderr, seconds) of `binary args` under the memory limit and the timeout."""
    cmd = ["bash", "-c", f'ulimit -v {ULIMIT_KB}; exec timeout -s KILL {TIMEOUT} "$0" "$@"', binary,
           *args]
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True)
    code = p.returncode if p.returncode >= 0 else 128 - p.returncode
    if code == 137 and time.monotonic() - t >= TIMEOUT - 1:
        code = 124
    return code, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), time.monotonic() - t


def message_problems(stderr, culprits, forbid=()):
    """What is wrong with a refusal's stderr (empty when it is one clear line)."""
    problems = []
    lines = stderr.rstrip("\n").split("\n")
    if stderr.strip() == "":
        return ["stderr is empty"]
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    text = stderr.strip()
    if "panicked" in text:
        problems.append("panic")
    missing = [c for c in culprits if not any(alt in text for alt in c.split("|"))]
    if missing:
        problems.append(f"does not name {missing}")
    segments = [s.strip() for s in text.split(": ") if len(s.strip()) >= 4]
    repeated = sorted({s for s in segments if segments.count(s) > 1})
    if repeated:
        problems.append(f"repeats {repeated}")
    said = [f for f in forbid if f in text]
    if said:
        problems.append(f"says {said}")
    if re.search(r"(?<!\d)(18446744073\d{9}|9223372036854775807)(?!\d)", text):
        problems.append("shows a wrapped or saturated integer")
    return problems


def ort_outputs(path, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 4
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x.reshape(
        [d if isinstance(d, int) else x.shape[0] for d in s.get_inputs()[0].shape])})[0]


def close(got, want):
    got, want = np.asarray(got, np.float64).reshape(-1), np.asarray(want, np.float64).reshape(-1)
    if got.shape != want.shape:
        return f"{got.size} outputs, want {want.size}"
    err = np.abs(got - want)
    bound = 1e-4 + 1e-3 * np.abs(want) + 1e-5 * np.abs(want).max(initial=0.0)
    if not np.all(err <= bound):
        i = int(np.argmax(err - bound))
        return f"max abs error {err.max():.3e} (at {i}: {got[i]:.6g} vs {want[i]:.6g})"
    return ""


def check_accept(case, out):
    """Empty when the collapsed file `out` agrees with the original; else why not."""
    name = case["name"]
    if not out.exists():
        return f"{out.name} was not written"
    try:
        if case["kind"] == "spec":
            from safetensors.numpy import load_file

            t = load_file(str(out))
            want_w = np.load(DATA / f"{name}.weight.npy")
            want_b = np.load(DATA / f"{name}.bias.npy")
            return close(t["weight"], want_w) or close(t["bias"], want_b)
        if case["compare"]:
            x = np.load(DATA / f"{name}.inputs.npy")
            want = np.load(DATA / f"{name}.outputs.npy")
        else:
            import onnx

            m = onnx.load(str(DATA / f"{name}.onnx"), load_external_data=False)
            dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
            if np.prod(dims) > 1 << 26:
                return ""  # too large to run here: exit 0 and a written file is all that is checked
            x = np.random.default_rng(0).standard_normal(dims).astype(np.float32)
            want = ort_outputs(DATA / f"{name}.onnx", x)
        return close(ort_outputs(out, x), want)
    except Exception as e:  # noqa: BLE001 (any failure is the verdict)
        return "comparing failed: " + " ".join(str(e).split())[:200]


def judge(case, code, stderr, outdir, out, expect, check_output):
    """(verdict, detail): `ok` or `FAIL`."""
    written = sorted(p.name for p in outdir.iterdir())
    if code in SIGNALS or code > 128:
        return "FAIL", SIGNALS.get(code, f"signal {code - 128}")
    if expect == "any":
        if code == 2:
            problems = message_problems(stderr, [])
            return ("FAIL", "; ".join(problems)) if problems else ("ok", "")
        return ("ok", "") if code == 0 else ("FAIL", f"exit {code}")
    if expect == "either":
        expect = "refuse" if code == 2 else "accept"
    if expect == "refuse":
        problems = [] if code == 2 else [f"exit {code}, want 2"]
        if code != 0:
            problems += message_problems(stderr, case["culprit"], case.get("forbid", []))
        if written:
            problems.append(f"wrote {written}")
        return ("FAIL", "; ".join(problems)) if problems else ("ok", "")
    if code != 0:
        return "FAIL", f"exit {code}, want 0"
    if check_output:
        why = check_accept(case, out)
        if why:
            return "FAIL", why
    return "ok", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--json", help="also write the failures as JSON to this file")
    args = ap.parse_args()
    binary = str(Path(args.bin).resolve())
    cases = json.loads((DATA / "manifest.json").read_text())
    if args.only:
        cases = [c for c in cases if c["name"] in args.only]
    rows, failures = [], []
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        for case in cases:
            runs = [("collapse", case["args"], case["expect"], True)]
            if case.get("inspect_args"):
                runs.append(("inspect", case["inspect_args"], case["inspect_expect"], False))
            for cmd, argv, expect, check_output in runs:
                outdir = tmp / f"{case['name']}.{cmd}"
                outdir.mkdir()
                out = outdir / f"{case['name']}.out.{case['out_ext']}"
                argv = [a.replace("{dir}", str(DATA)).replace("{out}", str(out)) for a in argv]
                code, _stdout, stderr, secs = run(binary, argv)
                verdict, detail = judge(case, code, stderr, outdir, out, expect, check_output)
                first = stderr.strip().split("\n")[0] if stderr.strip() else ""
                rows.append((case["name"], cmd, expect, code, f"{secs:.1f}", first, verdict, detail))
                print(f"{case['name']:34} {cmd:8} {expect:7} {code:>4} {secs:5.1f}s {verdict:4} "
                      f"{detail[:60]:60} | {first[:150]}", flush=True)
                if verdict != "ok":
                    failures.append({"name": case["name"], "cmd": cmd, "expect": expect, "exit": code,
                                     "seconds": round(secs, 1), "stderr": stderr.strip(),
                                     "detail": detail, "why": case["why"], "culprit": case["culprit"]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    runs_total = len(rows)
    print(f"\n{runs_total - len(failures)} of {runs_total} runs pass ({len(cases)} cases); "
          f"{len({f['name'] for f in failures})} cases fail")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(failures, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
