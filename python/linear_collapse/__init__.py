"""Collapse a chain of linear layers into the one affine layer ``y = W x + b`` it equals.

Analytically, with no probing: each layer is lowered to its matrix (a convolution to its Toeplitz
matrix) and the matrices are multiplied from the last layer backward by the Rust library
``linear-collapse``. Example::

    import numpy as np
    import linear_collapse as lc

    conv = lc.Conv2d(np.random.randn(8, 3, 3, 3).astype(np.float32), padding=1)
    fc = lc.Linear(np.random.randn(10, 8 * 8 * 8).astype(np.float32))
    layers = [conv, lc.Flatten(), fc]
    single = lc.collapse(layers, (3, 8, 8))
    single.weight.shape   # (10, 192)
    lc.verify(layers, (3, 8, 8), single)["weight_vs_probe"]["max_abs"]

Shapes are per sample, without the batch dimension: ``(n,)``, ``(c, l)`` or ``(c, h, w)``; inputs and
outputs are flattened in C order, as ``torch.flatten`` does.

PyTorch users: ``linear_collapse.torch`` (``pip install "./python[torch]"``) collapses ``nn.Module``
chains and whole models and returns modules (``collapse_layers``, ``collapse``, ``inspect``).

Errors raise ``ValueError`` (bad shapes or layer parameters, the message names the layer),
``MemoryError`` (a plan over the memory budget, refused before allocating), ``OSError`` (files) or
``RuntimeError`` (anything else), each with the library's message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._core import AvgPool2d, BatchNorm, Conv1d, Conv2d, Flatten, Layer, Linear, Pad

__all__ = [
    "Layer",
    "Conv2d",
    "Conv1d",
    "Linear",
    "Flatten",
    "BatchNorm",
    "AvgPool2d",
    "Pad",
    "Collapsed",
    "collapse",
    "toeplitz",
    "probe",
    "verify",
    "collapse_onnx",
]

__version__ = "0.1.0"

Shape = Sequence[int]


@dataclass(frozen=True)
class Collapsed:
    """The single affine layer a chain equals: ``y = weight @ x.reshape(-1) + bias``.

    Attributes:
        weight: ``(n_out, n_in)`` array, float32 when every layer's parameters are float32,
            float64 otherwise.
        bias: ``(n_out,)`` array of the same dtype.
        report: the planner's plan (``compose::explain``): order and kernel of every product, flops,
            peak memory.
        input_shape: the per-sample input shape the chain was collapsed for.
        output_shape: the per-sample output shape of the chain.
    """

    weight: np.ndarray
    bias: np.ndarray
    report: str
    input_shape: Tuple[int, ...]
    output_shape: Tuple[int, ...] = field(default=())

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Applies the layer to one sample of ``input_shape`` or a batch ``(N, *input_shape)``.

        Returns ``(n_out,)`` or ``(N, n_out)``; reshape to ``output_shape`` if needed.
        """
        x = np.asarray(x)
        n_in = self.weight.shape[1]
        if x.shape in (tuple(self.input_shape), (n_in,)):
            return self.weight @ x.reshape(-1) + self.bias
        return x.reshape(-1, n_in) @ self.weight.T + self.bias

    def __repr__(self) -> str:
        return (
            f"Collapsed(weight={self.weight.shape} {self.weight.dtype}, bias={self.bias.shape}, "
            f"input_shape={self.input_shape}, output_shape={self.output_shape})"
        )


def collapse(
    layers: Sequence[Layer],
    input_shape: Shape,
    method: str = "auto",
    accumulate: str = "f32",
) -> Collapsed:
    """Collapses ``layers`` (applied in order) into one :class:`Collapsed` affine layer.

    Args:
        layers: the chain, e.g. ``[Conv2d(...), Flatten(), Linear(...)]``.
        input_shape: one sample's shape, ``(c, h, w)``, ``(c, l)`` or ``(n,)``.
        method: ``"auto"`` (the planner chooses), ``"dense"`` (dense Toeplitz matrices and GEMM),
            ``"sparse"`` (CSR products) or ``"im2col"`` (reverse-mode im2col/col2im).
        accumulate: ``"f32"`` accumulates in the weights' own type; ``"f64"`` widens float32 weights
            to float64, composes, and rounds the result once.

    Raises:
        ValueError: the chain does not fit ``input_shape`` (the message names the layer), or a bad
            option.
        MemoryError: the plan exceeds the memory budget (half the machine's memory).
    """
    w, b, report, out = _core.collapse(layers, tuple(input_shape), method, accumulate)
    return Collapsed(w, b, report, tuple(int(d) for d in input_shape), tuple(out))


def toeplitz(
    conv: Union[Conv2d, Conv1d], input_shape: Shape, dense: bool = True
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray, np.ndarray, Tuple[int, int]]]:
    """The Toeplitz matrix ``T`` of a convolution: ``conv(x).reshape(-1) == T @ x.reshape(-1) + bias``.

    Returns a dense ``(n_out, n_in)`` array, or with ``dense=False`` the CSR tuple
    ``(data, indices, indptr, shape)`` that ``scipy.sparse.csr_matrix(...)`` accepts as it is.
    A ``Conv1d`` over ``(c, l)`` gives the same matrix as over ``(c, 1, l)``.
    """
    return _core.toeplitz(conv, tuple(input_shape), dense)


def probe(layers: Sequence[Layer], input_shape: Shape) -> Tuple[np.ndarray, np.ndarray]:
    """The reference answer by probing (the forum method) on a naive float64 forward pass.

    Shares no code with :func:`collapse`. Returns ``(weight, bias)`` in float64; costs ``n_in + 1``
    forward passes.
    """
    w, b = _core.probe(layers, tuple(input_shape))
    return w, b


def verify(
    layers: Sequence[Layer],
    input_shape: Shape,
    collapsed: Union[Collapsed, Tuple[Any, Any]],
    samples: int = 5,
    seed: int = 0,
) -> Dict[str, Any]:
    """Checks a collapsed layer against the probe and against the direct forward pass.

    ``collapsed`` is a :class:`Collapsed` or a ``(weight, bias)`` pair (bias may be ``None``).
    Returns a dict with ``weight_vs_probe``, ``bias_vs_probe`` and ``outputs_vs_forward`` (each a dict
    of ``max_abs``, ``rel_fro``, ``worst``, ``worst_values``, ``ref_max``), the weight's numerical
    ``rank``, ``sigma_max``, ``sigma_min`` and a printable ``report``.
    """
    if isinstance(collapsed, Collapsed):
        weight, bias = collapsed.weight, collapsed.bias
    elif isinstance(collapsed, (tuple, list)) and len(collapsed) == 2:
        weight, bias = collapsed
    else:
        weight, bias = collapsed.weight, getattr(collapsed, "bias", None)
    return _core.verify(layers, tuple(input_shape), weight, bias, samples, seed)


def collapse_onnx(
    path_in: Union[str, "os.PathLike[str]"],
    path_out: Union[str, "os.PathLike[str]"],
    method: str = "auto",
    accumulate: str = "f32",
    objective: str = "macs",
    force: bool = False,
) -> List[str]:
    """Collapses the linear parts of an ONNX model and writes the result to ``path_out``.

    A piece of a linear run is replaced only when its form needs no more multiply-adds per sample
    (``objective="macs"``, the default) or no more parameters (``objective="params"``); ``force=True``
    replaces every run by its smallest single form even when that costs more. Returns one report per run
    (its nodes, the form it became and why, parameters and multiply-adds before and after). Raises
    ``OSError`` when a file cannot be read or written, ``ValueError`` for unsupported or inconsistent
    graphs, ``RuntimeError`` for a malformed file.
    """
    return _core.collapse_onnx(
        os.fspath(path_in), os.fspath(path_out), method, accumulate, objective, force
    )
