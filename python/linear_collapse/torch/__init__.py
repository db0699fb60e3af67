"""PyTorch front-end: collapse ``nn.Module`` chains and whole models, and get ``nn.Module``\\ s back.

Importable when PyTorch is installed (``pip install "./python[torch]"``). Three calls:

- :func:`collapse_layers` turns a chain of linear layers into its one layer (the seed's ``fcnew``)::

      fcnew = collapse_layers([conv2, nn.Flatten(), fc1], input_shape=(5, 13, 13))   # nn.Linear(845, 100)

- :func:`collapse` traces a model with ``torch.fx`` (``torch.export`` where symbolic tracing fails), finds
  every maximal linear run (convolutions, Linear, BatchNorm, average pools, pads, reshapes, permutations,
  sums and concatenations of branches, products by constants) and replaces each piece by its smallest
  exact form under the same policy as the command line: by default never more multiply-adds. It returns
  a ``torch.fx.GraphModule`` with the model's inputs and outputs, in eval mode, on the model's dtype and
  device; the model itself is not modified.
- :func:`inspect` prints what :func:`collapse` would do: the per-run table and the totals.

The fx graph is handed to the Rust core in ONNX's operator vocabulary (``_graph.py``, ``_ops.py``); the
core plans, builds and checks every form; this package only rewrites the fx graph (``_rewrite.py``).
Collapsing is exact only in eval mode: a model with a module in training mode is refused.
"""

from __future__ import annotations

import copy
import re
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.fx
import torch.nn as nn
from torch.utils._pytree import tree_leaves

from .. import _core
from . import _graph
from ._modules import Reshape
from ._rewrite import apply
from ._trace import check_eval, record, trace

__all__ = ["collapse", "collapse_layers", "inspect", "Report", "Reshape"]


@dataclass
class Report:
    """What :func:`collapse` did (or :func:`inspect` would do) to a model.

    Attributes:
        runs: one dict per linear run: ``nodes`` (fx node names), ``ops``, ``input_shape``,
            ``output_shape``, ``form`` (``"Conv2d"``, ``"Linear"``, ``"Linear x2 (rank r)"`` or
            ``"unchanged"``), ``why``, ``params`` and ``macs`` (before, after) and ``max_error`` (the
            form against the reference forward pass; ``None`` when only planned).
        totals: ``nodes``, ``params`` and ``macs`` (before, after) of the graph as the core counts them.
        tracer: ``"torch.fx"`` or ``"torch.export"``.
        max_error: largest difference between the collapsed and the original model on the example
            input, and ``scale``, the largest output magnitude (``None`` for :func:`inspect`).
        seconds: wall time of the whole call.
        text: the table the command line prints.
        skipped: ``(fx node, why)`` for each operation that is linear in general but not as this
            model uses it (a weight computed from the input, a Dropout in training, a pool whose windows
            differ in size, ...): it ends the runs around it like a nonlinearity.
    """

    runs: List[Dict[str, Any]]
    totals: Dict[str, Any]
    tracer: str
    text: str
    max_error: Optional[float] = None
    scale: Optional[float] = None
    seconds: float = 0.0
    skipped: List[Tuple[str, str]] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        lines = [self.text.rstrip("\n"), f"traced with {self.tracer}"]
        if self.max_error is not None:
            lines.append(f"collapsed vs original on the example: max abs {self.max_error:.3g} "
                         f"(output scale {self.scale:.3g})")
        return "\n".join(lines)


def _args(example_input: Any) -> Tuple[Any, ...]:
    return tuple(example_input) if isinstance(example_input, (tuple, list)) else (example_input,)


def _where(model: nn.Module, args: Tuple[Any, ...]) -> Tuple[torch.dtype, torch.device]:
    for p in list(model.parameters()) + list(model.buffers()):
        if p.is_floating_point():
            return p.dtype, p.device
    for a in args:
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            return a.dtype, a.device
    return torch.float32, torch.device("cpu")


def _plan(model: nn.Module, example_input: Any, objective: str, force: bool, build: bool):
    """Traces, records and plans ``model``: the GraphModule, the recording, the graph as the core read it,
    the core's edits and the :class:`Report` (without the check against the original)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_eval(model)
    args = _args(example_input)
    if not any(isinstance(a, torch.Tensor) for a in args):
        raise TypeError("example_input must be a tensor or a tuple of tensors")
    gm, tracer = trace(model, args)
    rec = record(gm, args)
    spec = _graph.build(gm, rec)
    if not spec.inputs:
        raise ValueError("the model reads no tensor input")
    try:
        edits, runs, totals, text = _core.collapse_graph(
            spec.inputs, spec.nodes, spec.initializers, spec.values, spec.outputs, spec.cuttable,
            objective=objective, force=force, build=build, opset=_graph.OPSET,
        )
    except (ValueError, RuntimeError, MemoryError) as e:
        raise type(e)(_fx_names(str(e), gm, spec)) from None
    for r in runs:
        r["nodes"] = list(dict.fromkeys(spec.owner.get(k, k) for k in r["nodes"]))
    return gm, rec, spec, edits, Report(runs, totals, tracer, text, skipped=spec.skipped)


def _fx_names(message: str, gm: torch.fx.GraphModule, spec: Any) -> str:
    """The core's message with ``ONNX node 'n' (Op)`` said as the fx node and the module it calls."""

    def name(m: "re.Match[str]") -> str:
        node = next((n for n in gm.graph.nodes if n.name == spec.owner.get(m[1], m[1])), None)
        if node is None:
            return m[0]
        what = f"module '{node.target}'" if node.op == "call_module" else f"{node.op} {node.target}"
        return f"fx node '{node.name}' ({what})"

    return re.sub(r"ONNX node '([^']*)' \([^)]*\)", name, message)


def collapse(
    model: nn.Module,
    example_input: Any,
    objective: str = "macs",
    force: bool = False,
) -> torch.fx.GraphModule:
    """Collapses every linear run of ``model``; returns a new ``torch.fx.GraphModule``.

    Args:
        model: any ``nn.Module`` in eval mode.
        example_input: a tensor (or a tuple of tensors, one per input) of the shape the model will
            see; its batch size does not bind the result.
        objective: ``"macs"`` (default) replaces a piece only when it needs no more multiply-adds and
            no more parameters, and fewer of one; ``"params"`` keeps the smaller parameter count.
        force: replace every run by its smallest single form even when that costs more.

    Returns:
        a GraphModule with the same inputs and outputs, in eval mode, on the model's dtype and device.
        ``result.collapse_report`` is the :class:`Report`.

    Raises:
        ValueError: a module in training mode, a model that neither tracer can trace, an example that
            does not fit the model, or a graph the core refuses (the message names the node).
        RuntimeError: the collapsed model does not reproduce the original on the example (a defect:
            please report it).

    Example::

        import timm, torch
        from linear_collapse.torch import collapse
        model = timm.create_model("repvgg_a0").eval()
        fused = collapse(model, torch.randn(1, 3, 224, 224))
        print(fused.collapse_report)
    """
    start = time.perf_counter()
    gm, rec, spec, edits, report = _plan(model, example_input, objective, force, build=True)
    dtype, device = _where(model, _args(example_input))
    apply(gm, spec, edits, dtype, device, rec.values)
    gm.eval()
    error, scale = _check(gm, _args(example_input), rec.outputs)
    gm.collapse_report = dataclasses.replace(report, max_error=error, scale=scale,
                                             seconds=time.perf_counter() - start)
    return gm


def _check(gm: torch.fx.GraphModule, args: Tuple[Any, ...], expected: Any) -> Tuple[float, float]:
    """The collapsed model against the original's recorded outputs on the example."""
    with torch.no_grad():
        got = gm(*args)
    want = [t for t in tree_leaves(expected) if isinstance(t, torch.Tensor)]
    have = [t for t in tree_leaves(got) if isinstance(t, torch.Tensor)]
    if len(want) != len(have):
        raise RuntimeError(f"the collapsed model gives {len(have)} tensors, the original {len(want)}")
    error = scale = 0.0
    for a, b in zip(have, want):
        if a.shape != b.shape:
            raise RuntimeError(f"the collapsed model gives shape {tuple(a.shape)}, the original "
                               f"{tuple(b.shape)}")
        if a.is_floating_point():
            error = max(error, (a.double() - b.double()).abs().max().item() if a.numel() else 0.0)
            scale = max(scale, b.double().abs().max().item() if b.numel() else 0.0)
        elif not torch.equal(a, b):
            raise RuntimeError("the collapsed model changes an integer output")
    if not error <= 1e-3 * max(scale, 1.0):
        raise RuntimeError(
            f"the collapsed model differs from the original by {error:.3g} on the example (output "
            f"scale {scale:.3g}); this is a defect of linear-collapse, please report it"
        )
    return error, scale


def inspect(model: nn.Module, example_input: Any, objective: str = "macs",
            force: bool = False) -> Report:
    """What :func:`collapse` would do, planned from the shapes (nothing built, nothing checked).

    Returns a :class:`Report`; ``print(report)`` shows the per-run table and the totals as the
    command line's ``inspect`` prints them.
    """
    start = time.perf_counter()
    report = _plan(model, example_input, objective, force, build=False)[-1]
    return dataclasses.replace(report, seconds=time.perf_counter() - start)


def collapse_layers(layers: Union[nn.Sequential, Sequence[nn.Module]],
                    input_shape: Sequence[int]) -> nn.Module:
    """The one layer a chain of linear layers equals, for samples of ``input_shape`` (no batch axis).

    Returns an ``nn.Conv2d`` where the chain is exactly one convolution, else an ``nn.Linear`` that
    acts on ``torch.flatten(x, 1)`` and gives the flat output (as the forum's ``fcnew``), or an
    ``nn.Sequential`` of two Linears where the exact rank makes that smaller.

    Raises ``ValueError`` naming the first layer that is not linear, or when the chain does not fit
    ``input_shape``.
    """
    for i, m in enumerate(layers):
        if not isinstance(m, nn.Module):
            raise TypeError(f"layers[{i}] is a {type(m).__name__}, not an nn.Module")
    seq = layers if isinstance(layers, nn.Sequential) else nn.Sequential(*layers)
    # layers are collapsed as they act in eval mode; a freshly built nn.Conv2d is in training mode and
    # acts the same, a BatchNorm or Dropout in training mode does not and is refused
    if not any(m.training and isinstance(m, _MODE_BOUND) for m in seq.modules()):
        seq = copy.deepcopy(seq).eval()
    dtype, device = _where(seq, ())
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((2, *input_shape), generator=generator).to(dtype=dtype, device=device)
    gm = collapse(seq, x, force=True)
    calls = [n for n in gm.graph.nodes if n.op not in ("placeholder", "output")]
    if len(calls) == 1 and calls[0].op == "call_module" and calls[0].target.startswith("collapsed"):
        return _bare(gm.get_submodule(calls[0].target))
    if len(seq) == 1:
        return seq[0]
    run = next((r for r in gm.collapse_report.runs if r["form"] == "unchanged"), None)
    stops = [n for n in calls if not (n.op == "call_module" and n.target.startswith("collapsed"))]
    what = stops[0].format_node() if stops else "?"
    why = f"; {run['why']}" if run else ""
    raise ValueError(f"the layers do not collapse into one: {what} stays{why}")


_MODE_BOUND = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)


def _bare(m: nn.Module) -> nn.Module:
    """The Linear of ``Flatten -> Linear (-> Reshape)``; any other form as it is."""
    if isinstance(m, nn.Sequential):
        parts = [p for p in m if not isinstance(p, (nn.Flatten, Reshape))]
        if len(parts) == 1 and isinstance(parts[0], nn.Linear):
            return parts[0]
    return m
