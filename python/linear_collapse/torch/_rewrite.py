"""Writing the replaced pieces into the traced GraphModule: one new module per piece, reading the piece's
entry and read by everything that read its exit; the piece's nodes go when nothing reads them."""

from __future__ import annotations

from typing import Any, Dict, List, Set

import torch
import torch.fx

from ._graph import Spec
from ._modules import module


def apply(gm: torch.fx.GraphModule, spec: Spec, edits: List[Dict[str, Any]], dtype: torch.dtype,
          device: torch.device, values: Dict[str, Any]) -> List[str]:
    """Rewrites ``gm`` in place; returns the names of the new submodules, one per edit. ``values`` are
    the recorded values (:class:`._trace.Recording`), to tell tensors from sizes and checks."""
    nodes = {n.name: n for n in gm.graph.nodes}
    current: Dict[str, torch.fx.Node] = {}

    def node_of(value: str) -> torch.fx.Node:
        if value in current:
            return current[value]
        return nodes[spec.owner.get(value, value)]

    names = []
    gone = set()
    for i, e in enumerate(edits):
        name = _free_name(gm, f"collapsed_{i}")
        gm.add_submodule(name, module(e["ops"], e["input_shape"], dtype, device))
        entry, exit_ = node_of(e["entry"]), node_of(e["exit"])
        with gm.graph.inserting_after(exit_):
            new = gm.graph.call_module(name, (entry,))
        exit_.replace_all_uses_with(new)
        current[e["exit"]] = new
        gone.update(spec.owner[k] for k in e["nodes"])
        names.append(name)
    _erase(gm, gone, values)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    _drop_unused_tensors(gm)
    gm.recompile()
    return names


def _drop_unused_tensors(gm: torch.fx.GraphModule) -> None:
    """Deletes the parameters and buffers nothing reads any more: a replaced BatchNorm whose module stays
    because its children (timm's ``BatchNormAct2d``: ``drop``, ``act``) are still called keeps its own
    weights otherwise."""
    called = [n.target for n in gm.graph.nodes if n.op == "call_module"]
    read = {n.target for n in gm.graph.nodes if n.op == "get_attr"}

    def used(name: str) -> bool:
        return name in read or any(name.startswith(f"{c}.") for c in called) or any(
            r.startswith(f"{name}.") for r in read
        )

    tensors = [n for n, _ in gm.named_parameters(remove_duplicate=False)]
    tensors += [n for n, _ in gm.named_buffers(remove_duplicate=False)]
    for name in tensors:
        if not used(name):
            owner, _, attr = name.rpartition(".")
            module = gm.get_submodule(owner) if owner else gm
            if hasattr(module, attr):
                delattr(module, attr)


def _erase(gm: torch.fx.GraphModule, gone: Set[str], values: Dict[str, Any]) -> None:
    """Erases the replaced nodes, with what only looked at them: the sizes and checks computed from a
    replaced value (``x.ndim == 4``, ``torch._assert``), and parameters nothing reads any more."""
    doomed = set(gone)
    for n in gm.graph.nodes:
        if n.op in ("call_function", "call_method") and not _is_tensor(values.get(n.name)):
            if any(a.name in doomed for a in n.all_input_nodes):
                doomed.add(n.name)
    for n in reversed(list(gm.graph.nodes)):
        if (n.name in doomed or n.op == "get_attr") and not n.users:
            gm.graph.erase_node(n)


def _is_tensor(v: Any) -> bool:
    if isinstance(v, (tuple, list)):
        return any(_is_tensor(x) for x in v)
    return isinstance(v, torch.Tensor)


def _free_name(gm: torch.nn.Module, base: str) -> str:
    name, k = base, 0
    while hasattr(gm, name):
        k += 1
        name = f"{base}_{k}"
    return name
