"""A traced graph in ONNX's operator vocabulary: what the Rust core's graph entry point reads.

Each fx node that computes a tensor from the inputs becomes ONNX nodes named after it: the linear ones
(convolutions, Linear, BatchNorm in eval mode, average pools, pads, reshapes, permutations, sums,
concatenations, products by constants, slices) as the ONNX operator PyTorch's own exporter writes for
them, everything else as an opaque operator of the domain ``linear_collapse.torch`` that ends the
linear runs around it. Parameters and every value computed only from them become initializers. The
dims of every value come from running the graph on the example (:mod:`._trace`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch
import torch.fx
import torch.nn as nn

from ._ops import Opaque, mapper_of
from ._trace import Recording

OPAQUE = "linear_collapse.torch"
OPSET = 19


@dataclass
class Spec:
    """The graph as the Rust core reads it, and how its names map back to fx nodes."""

    inputs: List[Tuple[str, List[int], bool, bool]] = field(default_factory=list)
    nodes: List[Tuple[str, str, str, List[str], List[str], Dict[str, Any]]] = field(default_factory=list)
    initializers: List[Tuple[str, np.ndarray]] = field(default_factory=list)
    values: List[Tuple[str, List[int], bool, bool]] = field(default_factory=list)
    outputs: List[str] = field(default_factory=list)
    #: the fx values a piece may start or end at
    cuttable: Set[str] = field(default_factory=set)
    #: ONNX node name -> the fx node it came from
    owner: Dict[str, str] = field(default_factory=dict)
    #: (fx node, why) for each node a mapper knew but left a boundary (this use is not linear)
    skipped: List[Tuple[str, str]] = field(default_factory=list)


def _param_key(t: torch.Tensor) -> Tuple[int, int, Tuple[int, ...], Tuple[int, ...]]:
    return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))


class Builder:
    """Walks a recorded GraphModule and writes its :class:`Spec`."""

    def __init__(self, gm: torch.fx.GraphModule, rec: Recording):
        self.gm = gm
        self.rec = rec
        self.spec = Spec()
        self.consts: Dict[Any, str] = {}  # tensor identity -> initializer name
        self.taken: Set[str] = set()  # initializer names
        self.names: Dict[str, str] = {}  # fx node name -> ONNX value name
        self.fresh = 0

    # ----------------------------------------------------------------------------------------- values

    def const(self, value: Any, name: Optional[str] = None, integer: bool = False) -> str:
        """An initializer holding ``value`` (a tensor or number); the same tensor is one initializer."""
        if isinstance(value, torch.Tensor):
            key = _param_key(value)
            if key in self.consts:
                return self.consts[key]
            if value.is_floating_point() and not integer:
                array = value.detach().to("cpu", torch.float32).contiguous().numpy()
            elif not value.is_floating_point() and not value.is_complex():
                array = value.detach().to("cpu", torch.int64).contiguous().numpy()
            else:
                raise Opaque("complex constant")
        else:
            key = None
            dtype = np.int64 if integer else np.float32
            array = np.asarray(value, dtype=dtype)
        self.fresh += 1
        init = name if name and name not in self.taken else f"{name or 'const'}#{self.fresh}"
        self.taken.add(init)
        self.spec.initializers.append((init, np.ascontiguousarray(array)))
        if key is not None:
            self.consts[key] = init
        return init

    def ints(self, values: Sequence[int]) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), integer=True)

    def tensor_arg(self, a: Any) -> str:
        """The ONNX value of an argument that must be a tensor (or a number, made a constant)."""
        if isinstance(a, torch.fx.Node):
            if a.name in self.names:
                return self.names[a.name]
            v = self.rec.values.get(a.name)
            if a.name not in self.rec.dependent and isinstance(v, torch.Tensor):
                target = a.target if a.op == "get_attr" else None
                return self.const(v, name=target)
            raise Opaque(f"{a.name} is not a tensor here")
        if isinstance(a, (int, float)) and not isinstance(a, bool):
            return self.const(float(a))
        raise Opaque(f"argument {a!r} is not a tensor")

    def value(self, a: Any) -> Any:
        """The example's value of an argument (python values, constants, or meta tensors)."""
        if isinstance(a, torch.fx.Node):
            return self.rec.values.get(a.name)
        if isinstance(a, (tuple, list)):
            return type(a)(self.value(x) for x in a)
        return a

    def is_const(self, a: Any) -> bool:
        return not (isinstance(a, torch.fx.Node) and a.name in self.rec.dependent)

    def module_param(self, mod: nn.Module, target: str, attr: str) -> Optional[str]:
        t = getattr(mod, attr, None)
        return None if t is None else self.const(t, name=f"{target}.{attr}")

    # ------------------------------------------------------------------------------------------ nodes

    def emit(self, node: torch.fx.Node, op: str, inputs: List[str], attrs: Optional[Dict] = None,
             outputs: Optional[List[str]] = None, domain: str = "", part: str = "") -> str:
        name = node.name + (f"#{part}" if part else "")
        outs = outputs if outputs is not None else [name]
        self.spec.nodes.append((name, op, domain, inputs, outs, attrs or {}))
        self.spec.owner[name] = node.name
        return outs[0]

    def build(self) -> Spec:
        for n in self.gm.graph.nodes:
            v = self.rec.values.get(n.name)
            if n.op == "placeholder":
                if isinstance(v, torch.Tensor):
                    self.spec.inputs.append((n.name, list(v.shape), v.is_floating_point(), True))
                    self.names[n.name] = n.name
                    self.spec.cuttable.add(n.name)
                continue
            if n.op == "output":
                for leaf in _leaves(n.args[0]):
                    if not isinstance(leaf, torch.fx.Node):
                        continue
                    parts = [leaf.name] if leaf.name in self.names else [
                        o for o in self.names if o.startswith(f"{leaf.name}#")]
                    self.spec.outputs.extend(self.names[o] for o in parts)
                continue
            if n.op == "get_attr" or n.name not in self.rec.dependent:
                continue
            self.node(n, v)
        # graph outputs listed once, in order
        self.spec.outputs = list(dict.fromkeys(self.spec.outputs))
        return self.spec

    def node(self, n: torch.fx.Node, v: Any) -> None:
        if isinstance(v, torch.Tensor):
            outs, tensors = [n.name], [v]
        elif isinstance(v, (tuple, list)) and v and all(isinstance(x, torch.Tensor) for x in v):
            outs, tensors = [f"{n.name}#{i}" for i in range(len(v))], list(v)
        else:
            return  # sizes and other Python values: nothing to write
        for o, t in zip(outs, tensors):
            self.spec.values.append((o, list(t.shape), t.is_floating_point(), o in self.rec.batched))
        mapper = mapper_of(self.gm, n)
        if mapper is not None:
            saved = (len(self.spec.nodes), len(self.spec.initializers), dict(self.consts))
            try:
                result = mapper(self, n, v)
                results = [result] if isinstance(result, str) else list(result)
                if results != outs[: len(results)]:
                    raise Opaque(f"wrote {results}, expected {outs}")
            except Exception as e:  # noqa: BLE001 - a use the mapper does not cover is a boundary
                del self.spec.nodes[saved[0] :]
                del self.spec.initializers[saved[1] :]
                self.consts = saved[2]
                self.taken = {name for name, _ in self.spec.initializers}
                self.spec.skipped.append((n.name, f"{type(e).__name__}: {e}"))
            else:
                for r in results:
                    self.names[r] = r
                if len(outs) == 1:
                    self.spec.cuttable.add(outs[0])
                return
        self.opaque(n, outs)

    def opaque(self, n: torch.fx.Node, outputs: List[str]) -> None:
        """A boundary: reads every tensor the node reads, writes its outputs."""
        reads: List[str] = []
        for a in n.all_input_nodes:
            try:
                reads.append(self.tensor_arg(a))
            except Opaque:
                continue
        self.emit(n, _op_name(self.gm, n), list(dict.fromkeys(reads)), outputs=outputs, domain=OPAQUE)
        for o in outputs:
            self.names[o] = o
        if len(outputs) == 1:
            self.spec.cuttable.add(outputs[0])


def build(gm: torch.fx.GraphModule, rec: Recording) -> Spec:
    """The :class:`Spec` of a recorded GraphModule."""
    return Builder(gm, rec).build()


def _leaves(a: Any) -> List[Any]:
    if isinstance(a, (tuple, list)):
        return [x for y in a for x in _leaves(y)]
    if isinstance(a, dict):
        return [x for y in a.values() for x in _leaves(y)]
    return [a]


def _op_name(gm: torch.fx.GraphModule, n: torch.fx.Node) -> str:
    if n.op == "call_module":
        return type(gm.get_submodule(n.target)).__name__
    if n.op == "call_method":
        return str(n.target)
    if isinstance(n.target, torch._ops.OpOverload):
        return f"aten.{n.target.overloadpacket.__name__}"
    return getattr(n.target, "__name__", str(n.target))


# --------------------------------------------------------------------------------------------- mappers

__all__ = ["Spec", "Builder", "build", "OPAQUE", "OPSET"]
