"""linear_collapse.torch.collapse against timm's own reparameterize_model, side by side in one run.

For each timm model (random weights, non-trivial normalisation statistics and layer scales as the real-model suite
draws them, fixed seeds) at 224x224, batch 1:
our time (trace, plan, build, check against the reference, rewrite, compare with the original), timm's
time, parameters and multiply-adds of both (multiply-adds counted by PyTorch's FlopCounterMode: convolutions
and matrix products), and the largest output difference from timm's fused model and from the original,
each divided by the original's largest output. torchvision models have no timm fusion: they are compared
with themselves. Prints a Markdown table.

    python scripts/real_models/torch_compare.py [--models repvgg_a0,...] [--torchvision resnet18,...]
"""

import argparse
import copy
import time

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from export import randomise_norms  # the real-model suite's statistics, from this folder
from linear_collapse.torch import collapse

TIMM = "repvgg_a0,mobileone_s0,repghostnet_050,fastvit_t8,repvit_m0_9,repvgg_b1g4"
TORCHVISION = "resnet18,mobilenet_v2,vgg11_bn"


def randomise_norms_of(model):
    randomise_norms(model)
    return model


def params(m):
    return sum(p.numel() for p in m.parameters())


def macs(m, x):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        m(x)
    return counter.get_total_flops() // 2


def timed(f):
    start = time.perf_counter()
    out = f()
    return out, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=TIMM)
    ap.add_argument("--torchvision", default=TORCHVISION)
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows = []
    for name in filter(None, args.models.split(",")):
        import timm
        from timm.utils.model import reparameterize_model

        torch.manual_seed(0)
        model = randomise_norms_of(timm.create_model(name, pretrained=False)).eval()
        x = torch.randn(1, 3, 224, 224)
        ours, t_ours = timed(lambda: collapse(model, x))
        theirs, t_timm = timed(lambda: reparameterize_model(copy.deepcopy(model)))
        rows.append((f"timm {name}", model, ours, theirs, x, t_ours, t_timm))
    for name in filter(None, args.torchvision.split(",")):
        import torchvision

        torch.manual_seed(0)
        model = randomise_norms_of(getattr(torchvision.models, name)(weights=None)).eval()
        x = torch.randn(1, 3, 224, 224)
        ours, t_ours = timed(lambda: collapse(model, x))
        rows.append((f"torchvision {name}", model, ours, None, x, t_ours, None))
    print("| model | tracer | ours s | timm s | params before / ours / timm | MACs before / ours / timm "
          "| max diff vs timm | max diff vs original |")
    print("|---|---|---|---|---|---|---|---|")
    for label, model, ours, theirs, x, t_ours, t_timm in rows:
        with torch.no_grad():
            y, yo = model(x), ours(x)
            yt = theirs(x) if theirs is not None else None
        scale = y.abs().max().item()
        vs_timm = f"{(yo - yt).abs().max().item() / scale:.1e}" if yt is not None else "-"
        p = f"{params(model):,} / {params(ours):,} / " + (f"{params(theirs):,}" if theirs else "-")
        mm = (f"{macs(model, x) / 1e6:.1f}M / {macs(ours, x) / 1e6:.1f}M / "
              + (f"{macs(theirs, x) / 1e6:.1f}M" if theirs else "-"))
        tt = f"{t_timm:.2f}" if t_timm is not None else "-"
        print(f"| {label} | {ours.collapse_report.tracer} | {t_ours:.2f} | {tt} | {p} | {mm} | "
              f"{vs_timm} | {(yo - y).abs().max().item() / scale:.1e} |", flush=True)


if __name__ == "__main__":
    main()
