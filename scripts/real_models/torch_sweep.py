"""linear_collapse.torch.collapse over many torchvision and timm architectures: each must trace, come out with
no more parameters and no more multiply-adds (PyTorch's FlopCounterMode count) than it went in, and agree
with the original on a batch of another size than the example. One line per model; exit 1 on any failure.

    python scripts/real_models/torch_sweep.py [--models resnet50,tv:googlenet,...]

Names with ``tv:`` are torchvision models, the others timm's (random weights, normalisation statistics drawn
as the real-model suite draws them).
"""

import argparse
import sys
import time

import torch
import torchvision
import timm
from export import randomise_norms  # this folder
from linear_collapse.torch import collapse
from torch_compare import macs, params  # this folder

MODELS = (
    "resnet50,efficientnet_b0,convnext_atto,mobilenetv3_small_100,regnety_002,ghostnet_100,levit_128s,"
    "efficientvit_b0,mobilevitv2_050,densenet121,rexnet_100,mixnet_s,lcnet_050,gernet_s,cspresnet50,"
    "edgenext_xx_small,poolformer_s12,inception_v3,resnest14d,mobilenetv4_conv_small,efficientformer_l1,"
    "coatnet_0_rw_224,repvgg_b0,tv:shufflenet_v2_x0_5,tv:mnasnet0_5,tv:regnet_x_400mf,"
    "tv:efficientnet_v2_s,tv:googlenet,tv:resnext50_32x4d,tv:mobilenet_v3_large,tv:maxvit_t,"
    "tv:squeezenet1_1,tv:alexnet"
)


def build(name):
    if name.startswith("tv:"):
        kw = {"aux_logits": False, "init_weights": True} if name[3:] in ("googlenet", "inception_v3") else {}
        return getattr(torchvision.models, name[3:])(weights=None, **kw)
    return timm.create_model(name, pretrained=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=MODELS)
    failed = 0
    for name in ap.parse_args().models.split(","):
        try:
            torch.manual_seed(0)
            model = build(name)
            randomise_norms(model)
            model.eval()
            size = 299 if "inception" in name else 224
            x = torch.randn(2, 3, size, size)
            start = time.perf_counter()
            gm = collapse(model, x)
            seconds = time.perf_counter() - start
            p = (params(model), params(gm))
            m = (macs(model, x), macs(gm, x))
            x3 = torch.randn(3, 3, size, size)
            with torch.no_grad():
                y, y3 = model(x3), gm(x3)
            err = ((y - y3).abs().max() / y.abs().max().clamp_min(1e-30)).item()
            report = gm.collapse_report
            replaced = sum(r["form"] != "unchanged" for r in report.runs)
            ok = p[1] <= p[0] and m[1] <= m[0] and err < 1e-4
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {report.tracer} {seconds:.2f} s, params {p[0]:,} -> "
                  f"{p[1]:,}, MACs {m[0] / 1e6:.1f}M -> {m[1] / 1e6:.1f}M, max diff {err:.1e} (batch 3), "
                  f"{replaced}/{len(report.runs)} runs replaced", flush=True)
        except Exception as e:  # noqa: BLE001 - one line per model
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {str(e)[:300]}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
