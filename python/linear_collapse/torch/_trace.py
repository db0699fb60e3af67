"""Tracing a model into a ``torch.fx.GraphModule`` and recording what every node computes on an example."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Set, Tuple

import torch
import torch.fx


def check_eval(model: torch.nn.Module) -> None:
    """Refuses a model with any module in training mode: collapsing is exact only in eval mode."""
    training = [name for name, m in model.named_modules() if m.training and name]
    if model.training:
        what = f"the model ({type(model).__name__})"
        what += f" and {len(training)} of its modules are" if training else " is"
    elif training:
        more = f" and {len(training) - 1} more are" if len(training) > 1 else " is"
        what = f"module '{training[0]}'{more}"
    else:
        return
    raise ValueError(
        f"{what} in training mode: collapsing is exact only in eval mode, where BatchNorm uses its "
        "running statistics and Dropout is the identity; call model.eval() first"
    )


def trace(model: torch.nn.Module, args: Tuple[Any, ...]) -> Tuple[torch.fx.GraphModule, str]:
    """A copy of ``model`` as a GraphModule: ``torch.fx.symbolic_trace``, or ``torch.export`` where
    symbolic tracing fails (control flow on values, unsupported Python). Returns it and the tracer used.
    """
    model = copy.deepcopy(model)
    try:
        return torch.fx.symbolic_trace(model), "torch.fx"
    except Exception as fx_error:  # noqa: BLE001 - any tracing failure falls back to torch.export
        try:
            gm = _export(model, args)
        except Exception as export_error:  # noqa: BLE001
            raise ValueError(
                f"cannot trace the model: torch.fx.symbolic_trace failed ({_first_line(fx_error)}) "
                f"and so did torch.export ({_first_line(export_error)})"
            ) from export_error
        if not isinstance(gm, torch.fx.GraphModule):
            raise ValueError("torch.export did not give a GraphModule")
        # a plain GraphModule of the same graph (the exported module refuses eval() and train())
        return torch.fx.GraphModule(gm, gm.graph), "torch.export"


def _export(model: torch.nn.Module, args: Tuple[Any, ...]) -> torch.nn.Module:
    """``torch.export`` with the batch axis dynamic where the model allows it (else fixed)."""
    batch = [{0: torch.export.Dim.AUTO} if isinstance(a, torch.Tensor) and a.dim() else None
             for a in args]
    try:
        return torch.export.export(model, args, dynamic_shapes=tuple(batch), strict=False).module()
    except Exception:  # noqa: BLE001 - a model tied to its batch size is exported as it is
        return torch.export.export(model, args, strict=False).module()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


@dataclass
class Recording:
    """What each node of a traced graph gave on the example input.

    Attributes:
        values: node name -> the value itself for nodes that do not depend on the inputs (parameters and
            what is computed from them) and for non-tensor results (sizes, tuples of ints); for other
            tensors, a ``torch.empty`` of the same shape on the meta device.
        dependent: names of the nodes whose value depends on an input.
        outputs: the graph's outputs on the example.
        batched: the tensor values (``name``, or ``name#i`` for the i-th tensor of a tuple) whose first
            axis is the batch: it grew by one when the graph ran again on the example with one more
            sample.
    """

    values: Dict[str, Any]
    dependent: Set[str]
    outputs: Any
    batched: Set[str]


def _summary(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return torch.empty(v.shape, dtype=v.dtype, device="meta")
    if isinstance(v, (tuple, list)):
        return type(v)(_summary(x) for x in v)
    return v


class _Recorder(torch.fx.Interpreter):
    def __init__(self, gm: torch.fx.GraphModule):
        super().__init__(gm)
        self.values: Dict[str, Any] = {}
        self.dependent: Set[str] = set()

    def run_node(self, n: torch.fx.Node) -> Any:
        result = super().run_node(n)
        if n.op == "placeholder" or any(a.name in self.dependent for a in n.all_input_nodes):
            self.dependent.add(n.name)
            self.values[n.name] = _summary(result)
        elif n.op != "output":
            self.values[n.name] = result.detach() if isinstance(result, torch.Tensor) else result
        return result


def record(gm: torch.fx.GraphModule, args: Sequence[Any]) -> Recording:
    """Runs ``gm`` on ``args`` (missing trailing placeholders take their defaults) and records it.

    Raises ``ValueError`` when the example does not fit the model, with PyTorch's message.
    """
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    full = list(args)
    for n in placeholders[len(full) :]:
        if not n.args:
            raise ValueError(f"the model's input '{n.target}' has no example and no default")
        full.append(n.args[0])
    rec = _Recorder(gm)
    try:
        with torch.no_grad():
            out = rec.run(*full)
    except Exception as e:  # noqa: BLE001 - the model's own error, reported with the example's shape
        shapes = [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)]
        raise ValueError(
            f"the example input of shape {shapes[0] if len(shapes) == 1 else shapes} does not fit the "
            f"model: {_first_line(e)}"
        ) from e
    return Recording(rec.values, rec.dependent, out, _batched(gm, full, rec))


def _tensors(name: str, v: Any) -> Dict[str, Any]:
    if isinstance(v, torch.Tensor):
        return {name: v}
    if isinstance(v, (tuple, list)):
        return {f"{name}#{i}": x for i, x in enumerate(v) if isinstance(x, torch.Tensor)}
    return {}


def _batched(gm: torch.fx.GraphModule, full: List[Any], rec: _Recorder) -> Set[str]:
    """The values whose first axis follows the batch size, found by running once more with one more
    sample (nothing is batched when the model cannot run so)."""
    first = next(a for a in full if isinstance(a, torch.Tensor))
    if first.dim() == 0:
        return set()
    n = first.shape[0]
    grown = [torch.cat([a, a[:1]]) if isinstance(a, torch.Tensor) and a.dim() and a.shape[0] == n
             else a for a in full]
    again = _Recorder(gm)
    try:
        with torch.no_grad():
            again.run(*grown)
    except Exception:  # noqa: BLE001 - a model tied to its batch size: no value is known batched
        return set()
    out = set()
    for name in rec.dependent:
        seen, grew = _tensors(name, rec.values.get(name)), _tensors(name, again.values.get(name))
        for key, a in seen.items():
            b = grew.get(key)
            if (b is not None and a.dim() > 0 and a.dim() == b.dim() and a.shape[0] == n
                    and b.shape[0] == n + 1 and a.shape[1:] == b.shape[1:]):
                out.add(key)
    return out
