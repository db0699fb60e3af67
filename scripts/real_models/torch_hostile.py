"""Hostile and unusual models through linear_collapse.torch: each must be refused with one clear line naming
the fx node and module (a ValueError, TypeError or RuntimeError with the expected words), or collapse.
One line per case; exit 1 when a case does something else.

    python scripts/real_models/torch_hostile.py
"""

import sys

import torch
import torch.nn as nn
import timm
import torchvision

from linear_collapse.torch import collapse, collapse_layers
def nan_model():
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 1)).eval()
    with torch.no_grad(): m[1].weight[0, 0, 0, 0] = float("nan")
    return collapse(m, torch.randn(1, 3, 8, 8))
def inf_bn():
    m = torchvision.models.resnet18().eval()
    m.layer1[0].bn1.running_var[3] = float("inf")
    return collapse(m, torch.randn(1, 3, 64, 64))
def zero_var_eps0():
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, eps=0.0)).eval()
    m[1].running_var.zero_()
    return collapse(m, torch.randn(1, 3, 8, 8))
def huge():
    m = nn.Sequential(nn.Flatten(), nn.Linear(3*512*512, 4, bias=False), nn.Linear(4, 4)).eval()
    return collapse(m, torch.randn(1, 3, 512, 512), force=True)
def empty_batch():
    m = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4)).eval()
    return collapse(m, torch.randn(0, 4))
def int_input():
    m = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4), nn.Linear(4, 2)).eval()
    return collapse(m, torch.tensor([[1, 2, 3]]))
def scalar_out():
    class M(nn.Module):
        def __init__(s): super().__init__(); s.a = nn.Linear(4, 4); s.b = nn.Linear(4, 1)
        def forward(s, x): return s.b(s.a(x)).sum()
    return collapse(M().eval(), torch.randn(2, 4))
def half_model():
    m = timm.create_model("repvgg_a0").eval().half()
    return collapse(m, torch.randn(1, 3, 64, 64).half())
def layers_bad_shape():
    return collapse_layers([nn.Conv2d(5, 50, 5, stride=2), nn.Flatten(), nn.Linear(1250, 100)], (5, 12, 12))
def layers_not_module():
    return collapse_layers([nn.Linear(4, 4), "relu"], (4,))
def shared_weight():
    a = nn.Linear(8, 8); b = nn.Linear(8, 8); b.weight = a.weight
    m = nn.Sequential(a, nn.ReLU(), b, nn.Linear(8, 8)).eval()
    return collapse(m, torch.randn(2, 8))

EXPECTED = {
    "nan_model": "fx node '_1' (module '1'): Conv2d(8->8, k1x1, groups 1): weight has a non-finite value (NaN)",
    "inf_bn": "fx node 'layer1_0_bn1' (module 'layer1.0.bn1')",
    "zero_var_eps0": "running_var[0] + eps = 0 is not positive",
    "huge": None,
    "empty_batch": "its batch dimension is 0",
    "int_input": None,
    "scalar_out": None,
    "half_model": None,
    "layers_bad_shape": "does not fit the model",
    "layers_not_module": "layers[1] is a str, not an nn.Module",
    "shared_weight": None,
}


def main():
    failed = 0
    for name, want in EXPECTED.items():
        try:
            globals()[name]()
            got, ok = "collapsed", want is None
        except (ValueError, TypeError, RuntimeError, MemoryError) as e:
            got = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            ok = want is not None and want in str(e) and len(str(e).splitlines()) == 1
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
