#!/usr/bin/env python3
"""Real networks (torchvision and timm, random weights) exported to ONNX with both PyTorch exporters, for the
real-model suite (run_suite.py collapses each with the command line and compares it in onnxruntime).

    python scripts/real_models/export.py --out /work/suite                      # everything, 64x64 inputs
    python scripts/real_models/export.py --out DIR --models resnet18,swin_t --size 224
    python scripts/real_models/export.py --list
    # needs torch, torchvision, timm, onnx, onnxscript, onnxruntime (pip); nothing is downloaded

Every model is built with random weights from a seed derived from its name (adding a model changes no
other), in eval mode, with non-trivial normalisation: BatchNorm running statistics and affine parameters,
LayerNorm/GroupNorm affine parameters and layer-scale gammas are randomised, so that no folded parameter is
an identity 1 or 0, and weights initialised to zeros (torchvision's ViT head) are drawn at random. Each
is exported twice:
- legacy: the TorchScript exporter (`dynamo=False`), opset round-robin over 11/13/14/17 (opset 9 for a few
  plain convnets), silently moving up to the next of these where the op set is too old (vit_b_16 needs
  14; the manifest keeps the requested one as opset_requested); some with a symbolic batch
  (`dynamic_axes`), some with the initializers also listed as graph inputs (`keep_initializers_as_inputs`);
- dynamo: the default `torch.export` exporter at its default opset (23 for a few models, where it works,
  else the default); a couple saved with external data (weights in `<file>.onnx.data` beside the model).
timm's re-parameterizable models are exported a second time after `reparameterize_model` as
`<name>_fused` (the same weights, branches folded).

Written into --out: `<model>.<legacy|dynamo>.onnx` (batch fixed to 1 unless dynamic),
`<model>.inputs.npy` (batch 2, float32, seeded standard normal) and `manifest.json` (one entry per file:
model, source, exporter, opset, input shape, notes, seconds, onnxruntime-vs-torch error, or the error that
stopped the export). A model or exporter that fails prints one warning line and the run goes on; so does
an export that onnxruntime cannot run or that disagrees with torch (kept; the manifest says so). With
--models the manifest keeps the other models' entries from an earlier run. Input sizes: 64x64 by
default; inception_v3 needs 75, vgg11_bn 224 and alexnet 223 (see MODELS); ViT, EfficientViT and LeViT
are built for the input size (a multiple of 16).
Everything at 64x64 takes about 5 minutes on 2 cores and ~4.3 GB (vgg11_bn and vit_b_16 are big).
"""
import argparse
import contextlib
import copy
import gc
import json
import os
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

BATCH = 2          # samples in <model>.inputs.npy
DEFAULT_SIZE = 64  # input height = width unless the model needs more
LEGACY_OPSETS = [11, 13, 14, 17]


def spec(source, kwargs=None, min_size=32, step=1, size_kw=None, opset9=False, dynamic=False,
         init_inputs=False, dynamo_opset=None, external=False, reparam=False):
    """One architecture: how to build it and which export variations it gets."""
    return dict(source=source, kwargs=kwargs or {}, min_size=min_size, step=step, size_kw=size_kw,
                opset9=opset9, dynamic=dynamic, init_inputs=init_inputs, dynamo_opset=dynamo_opset,
                external=external, reparam=reparam)


TV, TIMM = "torchvision", "timm"
MODELS = {
    "resnet18": spec(TV, opset9=True, dynamo_opset=23),
    "resnet50": spec(TV, dynamic=True, external=True),
    "mobilenet_v2": spec(TV, dynamic=True),
    "mobilenet_v3_small": spec(TV, dynamo_opset=23),
    "efficientnet_b0": spec(TV, init_inputs=True),
    "mnasnet0_5": spec(TV),
    "shufflenet_v2_x0_5": spec(TV, dynamic=True),
    "squeezenet1_1": spec(TV, opset9=True, init_inputs=True),
    "densenet121": spec(TV, init_inputs=True),
    # the legacy exporter needs the adaptive pool's input to be a multiple of its 7x7 (6x6) output: at
    # other --size values their legacy export fails (recorded in the manifest)
    "vgg11_bn": spec(TV, min_size=224, opset9=True),
    "alexnet": spec(TV, min_size=223, opset9=True),
    "googlenet": spec(TV, dict(aux_logits=False, init_weights=True)),
    "regnet_y_400mf": spec(TV),
    "convnext_tiny": spec(TV, dynamic=True),
    "inception_v3": spec(TV, dict(aux_logits=False, init_weights=True), min_size=75),
    "swin_t": spec(TV),
    "vit_b_16": spec(TV, step=16, size_kw="image_size", external=True),
    "repvgg_a0": spec(TIMM, reparam=True, init_inputs=True),
    "repvgg_b1g4": spec(TIMM, reparam=True),
    "mobileone_s0": spec(TIMM, reparam=True, dynamic=True),
    "repghostnet_050": spec(TIMM, reparam=True),
    "repvit_m0_9": spec(TIMM, reparam=True),
    "fastvit_t8": spec(TIMM, reparam=True, step=32),
    "convnext_atto": spec(TIMM),
    "efficientvit_m0": spec(TIMM, step=16, size_kw="img_size"),
    "levit_128s": spec(TIMM, step=16, size_kw="img_size"),
}


def seed_of(name):
    """A seed that depends on the model's name only."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def input_size(s, size):
    """The input height/width for this model: the requested size, raised to the model's minimum and
    rounded up to its step."""
    size = max(size, s["min_size"])
    return -(-size // s["step"]) * s["step"]


def build(name, s, size):
    """The architecture with random weights (no download), in eval mode."""
    kwargs = dict(s["kwargs"])
    if s["size_kw"]:
        kwargs[s["size_kw"]] = size
    if s["source"] == TV:
        import torchvision.models as tvm
        model = tvm.get_model(name, weights=None, **kwargs)
    else:
        import timm
        model = timm.create_model(name, pretrained=False, **kwargs)
    return model.eval()


@torch.no_grad()
def randomise_norms(model):
    """Non-trivial normalisation statistics and affine parameters, and layer-scale gammas."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            if m.affine:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        elif isinstance(m, (nn.LayerNorm, nn.GroupNorm)) and m.weight is not None:
            m.weight.uniform_(0.8, 1.2)
            if m.bias is not None:
                m.bias.uniform_(-0.1, 0.1)
    for pname, p in model.named_parameters():
        leaf = pname.rsplit(".", 1)[-1]
        if leaf in ("gamma", "layer_scale"):  # timm LayerScale / ConvNeXt gamma, torchvision CNBlock
            p.uniform_(0.2, 1.0)


@torch.no_grad()
def redraw_zero_weights(model):
    """Weights initialised to all zeros (torchvision's ViT head) drawn from N(0, 0.02) instead, so that
    the output depends on the input."""
    for pname, p in model.named_parameters():
        if p.dim() >= 2 and not p.any():
            p.normal_(0.0, 0.02)


def onnx_opset(path):
    """The default-domain opset a saved model imports."""
    m = onnx.load(str(path), load_external_data=False)
    return next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), None)


@contextlib.contextmanager
def quiet():
    """Silence the exporters' progress lines, warnings and the TorchScript graph dump the legacy exporter
    prints from C++ on failure (file descriptors 1 and 2 go to /dev/null; errors still raise)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy_ in zip((1, 2), saved):
                os.dup2(copy_, fd)
                os.close(copy_)


def export_legacy(model, x, path, opset, dynamic, init_inputs):
    kwargs = dict(input_names=["input"], output_names=["output"], dynamo=False, opset_version=opset,
                  keep_initializers_as_inputs=init_inputs)
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    with quiet():
        torch.onnx.export(model, (x,), str(path), **kwargs)


def export_dynamo(model, x, path, opset, external):
    kwargs = dict(input_names=["input"], output_names=["output"], dynamo=True, verbose=False)
    if opset:
        kwargs["opset_version"] = opset
    with quiet():
        program = torch.onnx.export(model, (x,), **kwargs)
        program.save(str(path), external_data=external)


def legacy_opsets(s, index):
    """The opsets to try in order for the legacy export of the index-th model: its round-robin pick from
    LEGACY_OPSETS (9 for the models marked opset9), then the higher ones for ops newer than the pick."""
    first = 9 if s["opset9"] else LEGACY_OPSETS[index % len(LEGACY_OPSETS)]
    return [first] + [o for o in LEGACY_OPSETS if o > first]


def ort_vs_torch(path, model, X):
    """max |onnxruntime - torch| and max |torch| of the first output over the samples of X."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3  # no warning per initializer listed as a graph input
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    with torch.no_grad():
        ref = torch.cat([first_output(model(torch.from_numpy(X[i:i + 1]))) for i in range(len(X))]).numpy()
    if isinstance(inp.shape[0], int):  # fixed batch: one sample at a time
        got = np.concatenate([sess.run(None, {inp.name: X[i:i + 1]})[0] for i in range(len(X))])
    else:
        got = sess.run(None, {inp.name: X})[0]
    return float(np.abs(got.astype(np.float64) - ref).max()), float(np.abs(ref).max())


def first_output(y):
    return y[0] if isinstance(y, (tuple, list)) else y


def export_one(model, x, X, path, exporter, opsets, flags):
    """Export with the first opset that works; returns the manifest fields (raises if all fail)."""
    t0 = time.perf_counter()
    err = None
    for opset in opsets:
        try:
            if exporter == "legacy":
                export_legacy(model, x, path, opset, flags["dynamic"], flags["init_inputs"])
            else:
                export_dynamo(model, x, path, opset, flags["external"])
            break
        except Exception as e:  # noqa: BLE001 - try the next opset
            err = e
    else:
        raise err
    entry = dict(opset=onnx_opset(path), seconds=round(time.perf_counter() - t0, 2))
    if opset != opsets[0]:
        entry["opset_requested"] = opsets[0]
    if flags["verify"]:
        entry["ort_vs_torch"] = verify(path, model, X)
    return entry


def verify(path, model, X):
    """The export run in onnxruntime against torch: dict(max_abs, max_ref) or dict(error); warns when
    onnxruntime fails or is off by more than 1e-3 of the output's scale (the file is kept either way)."""
    try:
        max_abs, scale = ort_vs_torch(path, model, X)
    except Exception as e:  # noqa: BLE001
        warn(f"{path.name}: onnxruntime cannot run it: {type(e).__name__}: {first_line(e)}")
        return dict(error=f"{type(e).__name__}: {first_line(e)}")
    if not max_abs <= 1e-3 * max(scale, 1e-6):
        warn(f"{path.name}: onnxruntime differs from torch by {max_abs:.3g} (output scale {scale:.3g})")
    return dict(max_abs=max_abs, max_ref=scale)


def notes_of(exporter, flags, fused):
    notes = []
    if exporter == "legacy" and flags["dynamic"]:
        notes.append("dynamic batch")
    if exporter == "legacy" and flags["init_inputs"]:
        notes.append("initializers as inputs")
    if exporter == "dynamo" and flags["external"]:
        notes.append("external data")
    if fused:
        notes.append("fused")
    return notes


def export_model(name, s, index, size, out, verify):
    """Both exports of one model (and of its fused form); returns its manifest entries."""
    t_model = time.perf_counter()
    side = input_size(s, size)
    shape = [BATCH, 3, side, side]
    torch.manual_seed(seed_of(name))
    X = np.random.default_rng(seed_of(name)).standard_normal(shape).astype(np.float32)
    entries = []
    try:
        model = build(name, s, side)
        randomise_norms(model)
        redraw_zero_weights(model)
        variants = [(name, model, False)]
        if s["reparam"]:
            from timm.utils.model import reparameterize_model
            variants.append((name + "_fused", reparameterize_model(copy.deepcopy(model)).eval(), True))
    except Exception as e:  # noqa: BLE001
        warn(f"{name}: could not build: {type(e).__name__}: {first_line(e)}")
        return [dict(file=None, model=name, base_model=name, source=s["source"], exporter=exporter,
                     error=f"build: {type(e).__name__}: {first_line(e)}") for exporter in ("legacy", "dynamo")]
    for vname, vmodel, fused in variants:
        np.save(out / f"{vname}.inputs.npy", X)
        for exporter in ("legacy", "dynamo"):
            entries.append(export_variant(vname, name, s, vmodel, X, out, exporter, index, fused, verify))
    del model, variants
    gc.collect()
    torch._dynamo.reset()  # exports slow down as torch.export's caches fill
    print(f"{name}: {time.perf_counter() - t_model:.1f} s ({side}x{side})", flush=True)
    return entries


def export_variant(vname, name, s, model, X, out, exporter, index, fused, verify):
    """One file: the manifest entry, with the error instead when it could not be exported."""
    path = out / f"{vname}.{exporter}.onnx"
    flags = dict(s, verify=verify)
    dynamic = exporter == "legacy" and s["dynamic"]
    x = torch.from_numpy(X if dynamic else X[:1])
    if exporter == "legacy":
        opsets = legacy_opsets(s, index + (1 if fused else 0))  # the fused form: the next opset
    else:
        opsets = [s["dynamo_opset"], None] if s["dynamo_opset"] else [None]
    entry = dict(file=path.name, model=vname, base_model=name, source=s["source"], exporter=exporter,
                 inputs=f"{vname}.inputs.npy", input_shape=list(X.shape),
                 notes=notes_of(exporter, s, fused))
    for stale in (path, path.with_name(path.name + ".data")):
        stale.unlink(missing_ok=True)
    try:
        entry.update(export_one(model, x, X, path, exporter, opsets, flags))
    except Exception as e:  # noqa: BLE001
        warn(f"{vname}.{exporter}: export failed: {type(e).__name__}: {first_line(e)}")
        entry.update(file=None, error=f"{type(e).__name__}: {first_line(e)}")
        path.unlink(missing_ok=True)
    return entry


def first_line(e):
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return (lines[0] if lines else type(e).__name__)[:300]


def warn(msg):
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def write_manifest(out, entries, models, size, seconds):
    """manifest.json: this run's entries, plus an earlier run's entries for models not exported now."""
    path = out / "manifest.json"
    old = []
    if path.exists():
        try:
            old = [e for e in json.loads(path.read_text())["files"] if e["base_model"] not in models]
        except (ValueError, KeyError):
            old = []
    import onnxruntime
    import timm
    import torchvision
    meta = dict(torch=torch.__version__, torchvision=torchvision.__version__, timm=timm.__version__,
                onnx=onnx.__version__, onnxruntime=onnxruntime.__version__, size=size,
                seconds_last_run=round(seconds, 1))
    path.write_text(json.dumps(dict(meta=meta, files=old + entries), indent=1) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="directory for the models, inputs and manifest.json")
    ap.add_argument("--models", default="", help="comma-separated names (default: all; see --list)")
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE,
                    help=f"input height/width (default {DEFAULT_SIZE}; raised to what a model needs)")
    ap.add_argument("--no-verify", action="store_true", help="skip running each export in onnxruntime")
    ap.add_argument("--list", action="store_true", help="print the model names (for --models) and exit")
    a = ap.parse_args()
    if a.list:
        print("\n".join(MODELS))  # the reparameterizable ones also give <name>_fused
        return 0
    if a.out is None:
        ap.error("--out is required")
    names = [n.strip() for n in a.models.split(",") if n.strip()] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown models {unknown}; see --list")
    a.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    entries = []
    for name in names:
        entries += export_model(name, MODELS[name], list(MODELS).index(name), a.size, a.out, not a.no_verify)
        write_manifest(a.out, entries, set(names), a.size, time.perf_counter() - t0)  # as we go
    seconds = time.perf_counter() - t0
    failed = [e for e in entries if e.get("error")]
    print(f"{len(entries) - len(failed)} files written, {len(failed)} failed, {seconds:.1f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
