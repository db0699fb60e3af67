"""PyTorch modules for the forms the Rust core returns: ``Conv2d``, ``Linear``, ``Flatten``, ``Reshape``."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn


class Reshape(nn.Module):
    """``x.reshape(x.shape[0], *shape)``: a new per-sample shape, the batch axis kept."""

    def __init__(self, shape: Sequence[int]):
        super().__init__()
        self.shape = tuple(int(d) for d in shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def _param(a: np.ndarray, dtype: torch.dtype, device: torch.device) -> nn.Parameter:
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype))


def _conv(op: Dict[str, Any], shape: Tuple[int, ...], dtype: torch.dtype,
          device: torch.device) -> nn.Module:
    w = op["weight"]
    out_c, in_per_group, kh, kw = w.shape
    groups = int(op["groups"])
    t, l, b, r = (int(p) for p in op["padding"])
    if len(shape) != 3:
        raise ValueError(f"a Conv2d form on a sample of shape {shape} (expected (C, H, W))")
    # padding at the end that no window reaches changes nothing: pad both sides alike where that gives
    # the same output size (a stride-2 conv padded [1, 1, 0, 0] is the usual 3x3 with padding 1)
    h, w_in = shape[1], shape[2]
    dh, dw = op["dilation"]
    sh, sw = op["stride"]

    def out(size: int, begin: int, end: int, k: int, d: int, s: int) -> int:
        return (size + begin + end - d * (k - 1) - 1) // s + 1

    if out(h, t, b, kh, dh, sh) == out(h, max(t, b), max(t, b), kh, dh, sh) and out(
        w_in, l, r, kw, dw, sw
    ) == out(w_in, max(l, r), max(l, r), kw, dw, sw) and t >= b and l >= r:
        b, r = t, l
    symmetric = t == b and l == r
    conv = nn.Conv2d(in_per_group * groups, out_c, (kh, kw), stride=tuple(op["stride"]),
                     padding=(t, l) if symmetric else 0, dilation=tuple(op["dilation"]),
                     groups=groups, bias=op["bias"] is not None)
    conv.weight = _param(w, dtype, device)
    if op["bias"] is not None:
        conv.bias = _param(op["bias"], dtype, device)
    return conv if symmetric else nn.Sequential(nn.ZeroPad2d((l, r, t, b)), conv)


def module(ops: List[Dict[str, Any]], input_shape: Sequence[int], dtype: torch.dtype,
           device: torch.device) -> nn.Module:
    """The module of a replacement: one layer, or an ``nn.Sequential`` of them in order."""
    layers: List[nn.Module] = []
    shape = tuple(int(d) for d in input_shape)
    for op in ops:
        kind = op["kind"]
        if kind == "conv2d":
            layers.append(_conv(op, shape, dtype, device))
            shape = ()  # only a Flatten or Reshape follows a conv, and neither needs the shape
        elif kind == "linear":
            out_f, in_f = op["weight"].shape
            fc = nn.Linear(in_f, out_f, bias=op["bias"] is not None)
            fc.weight = _param(op["weight"], dtype, device)
            if op["bias"] is not None:
                fc.bias = _param(op["bias"], dtype, device)
            layers.append(fc)
        elif kind == "flatten":
            layers.append(nn.Flatten(1))
        elif kind == "reshape":
            layers.append(Reshape(op["shape"]))
        else:
            raise ValueError(f"no PyTorch module for the form {kind!r}")
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)
