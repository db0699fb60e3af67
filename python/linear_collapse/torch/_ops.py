"""One mapper per family of linear PyTorch operations, and the tables that find them.

A mapper writes the ONNX nodes of one fx node (named after it) and returns the value it computes, or
raises ``Opaque`` when this use of the operation is not linear (a weight computed from the input, a
Dropout in training, a BatchNorm without running statistics, ...). The node then ends the linear runs
around it. Output dims always come from the recorded example, never from a formula here.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F

if TYPE_CHECKING:
    from ._graph import Builder

#: writes the ONNX nodes of one fx node and returns the value(s) it computes
Mapper = Callable[["Builder", torch.fx.Node, Any], Any]


class Opaque(Exception):
    """Raised by a mapper: this use of the operation is not linear (the reason goes to ``skipped``)."""


def mapper_of(gm: torch.fx.GraphModule, n: torch.fx.Node) -> Optional[Mapper]:
    """The mapper of an fx node's operation, or ``None`` for an operation that is not linear."""
    if n.op == "call_module":
        # the exact type: a subclass may have its own forward (timm's Conv2dSame pads at run time)
        return MODULES.get(type(gm.get_submodule(n.target)))
    if n.op == "call_method":
        return METHODS.get(n.target)
    if n.op == "call_function":
        if isinstance(n.target, torch._ops.OpOverload):
            return ATEN.get(n.target.overloadpacket.__name__)
        return FUNCTIONS.get(n.target)
    return None


def _args(n: torch.fx.Node, names: Sequence[str], **defaults: Any) -> Dict[str, Any]:
    """The node's arguments by name: positional ones in the order of ``names``, then its keywords."""
    out = dict(defaults)
    out.update(zip(names, n.args))
    out.update(n.kwargs)
    return out


def _tuple(v: Any, rank: int) -> List[int]:
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and rank > 1:
            return [int(v[0])] * rank
        return [int(x) for x in v]
    return [int(v)] * rank


def _float_out(v: torch.Tensor) -> None:
    if not v.is_floating_point():
        raise Opaque("not a float tensor")


def _axis(d: int, rank: int) -> int:
    return d + rank if d < 0 else d


# -------------------------------------------------------------------------------------- convolutions


def _conv(b: Builder, n: torch.fx.Node, x: str, w: str, bias: Optional[str], kernel: Sequence[int],
          stride: Any, padding: Any, dilation: Any, groups: int, transposed: bool = False,
          output_padding: Any = 0) -> str:
    rank = len(kernel)
    stride, dilation = _tuple(stride, rank), _tuple(dilation, rank)
    if isinstance(padding, str):
        if padding == "valid":
            begins = ends = [0] * rank
        elif padding == "same":
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            begins = [t // 2 for t in total]
            ends = [t - t // 2 for t in total]
        else:
            raise Opaque(f"padding {padding!r}")
    else:
        begins = ends = _tuple(padding, rank)
    attrs: Dict[str, Any] = {
        "kernel_shape": list(kernel),
        "strides": stride,
        "pads": list(begins) + list(ends),
        "dilations": dilation,
        "group": int(groups),
    }
    if transposed:
        attrs["output_padding"] = _tuple(output_padding, rank)
    inputs = [x, w] + ([bias] if bias is not None else [])
    return b.emit(n, "ConvTranspose" if transposed else "Conv", inputs, attrs)


_PAD_MODES = {"constant": "constant", "zeros": "constant", "reflect": "reflect",
              "replicate": "edge", "circular": "wrap"}


def _pad(b: Builder, n: torch.fx.Node, x: str, rank: int, pad: Sequence[int], mode: str,
         value: float = 0.0, part: str = "") -> str:
    """ONNX ``Pad`` of torch's ``F.pad`` list (last axis first, begin and end per axis)."""
    if mode not in _PAD_MODES or len(pad) % 2 or len(pad) // 2 > rank:
        raise Opaque(f"pad mode {mode}")
    begins, ends = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):
        axis = rank - 1 - i
        begins[axis], ends[axis] = int(pad[2 * i]), int(pad[2 * i + 1])
    inputs = [x, b.ints(begins + ends)]
    if _PAD_MODES[mode] == "constant":
        inputs.append(b.const(float(value or 0.0)))
    return b.emit(n, "Pad", inputs, {"mode": _PAD_MODES[mode]}, part=part,
                  outputs=None if not part else [f"{n.name}#{part}"])


def conv_module(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    mod = b.gm.get_submodule(n.target)
    rank = mod.weight.dim() - 2
    x = b.tensor_arg(n.args[0])
    padding: Any = mod.padding
    if mod.padding_mode != "zeros":
        x = _pad(b, n, x, rank + 2, mod._reversed_padding_repeated_twice, mod.padding_mode, part="pad")
        padding = 0
    w = b.module_param(mod, n.target, "weight")
    bias = b.module_param(mod, n.target, "bias")
    return _conv(b, n, x, w, bias, mod.weight.shape[2:], mod.stride, padding, mod.dilation, mod.groups)


def conv_transpose_module(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    mod = b.gm.get_submodule(n.target)
    if mod.padding_mode != "zeros" or len(n.args) > 1 or n.kwargs:
        raise Opaque("output_size or padding mode")
    x = b.tensor_arg(n.args[0])
    w = b.module_param(mod, n.target, "weight")
    bias = b.module_param(mod, n.target, "bias")
    return _conv(b, n, x, w, bias, mod.weight.shape[2:], mod.stride, mod.padding, mod.dilation,
                 mod.groups, transposed=True, output_padding=mod.output_padding)


def conv_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
              bias=None, stride=1, padding=0, dilation=1, groups=1)
    if not b.is_const(a["weight"]) or not b.is_const(a["bias"]):
        raise Opaque("weight computed from the input")
    weight = b.value(a["weight"])
    x = b.tensor_arg(a["input"])
    w = b.tensor_arg(a["weight"])
    bias = None if a["bias"] is None else b.tensor_arg(a["bias"])
    return _conv(b, n, x, w, bias, weight.shape[2:], b.value(a["stride"]), b.value(a["padding"]),
                 b.value(a["dilation"]), b.value(a["groups"]))


def conv_transpose_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "weight", "bias", "stride", "padding", "output_padding", "groups",
                  "dilation"], bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)
    if not b.is_const(a["weight"]) or not b.is_const(a["bias"]):
        raise Opaque("weight computed from the input")
    weight = b.value(a["weight"])
    x = b.tensor_arg(a["input"])
    bias = None if a["bias"] is None else b.tensor_arg(a["bias"])
    return _conv(b, n, x, b.tensor_arg(a["weight"]), bias, weight.shape[2:], b.value(a["stride"]),
                 b.value(a["padding"]), b.value(a["dilation"]), b.value(a["groups"]),
                 transposed=True, output_padding=b.value(a["output_padding"]))


# -------------------------------------------------------------------------------------------- linear


def _linear(b: Builder, n: torch.fx.Node, x_node: Any, weight: torch.Tensor, w_name: str,
            bias: Optional[str]) -> str:
    x = b.tensor_arg(x_node)
    rank = len(b.value(x_node).shape)
    if rank == 2:
        inputs = [x, w_name] + ([bias] if bias is not None else [])
        return b.emit(n, "Gemm", inputs, {"transB": 1})
    wt = b.const(weight.detach().t().contiguous(), name=f"{w_name}^T")
    if bias is None:
        return b.emit(n, "MatMul", [x, wt])
    mid = b.emit(n, "MatMul", [x, wt], part="matmul", outputs=[f"{n.name}#matmul"])
    return b.emit(n, "Add", [mid, bias])


def linear_module(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    mod = b.gm.get_submodule(n.target)
    w = b.module_param(mod, n.target, "weight")
    bias = b.module_param(mod, n.target, "bias")
    return _linear(b, n, n.args[0], mod.weight, w, bias)


def linear_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "weight", "bias"], bias=None)
    if not b.is_const(a["weight"]) or not b.is_const(a["bias"]):
        raise Opaque("weight computed from the input")
    bias = None if a["bias"] is None else b.tensor_arg(a["bias"])
    return _linear(b, n, a["input"], b.value(a["weight"]), b.tensor_arg(a["weight"]), bias)


# ------------------------------------------------------------------------------------- normalization


def _batch_norm(b: Builder, n: torch.fx.Node, x: Any, mean: Any, var: Any, weight: Any, bias: Any,
                eps: float, channels: int) -> str:
    if mean is None or var is None:
        raise Opaque("no running statistics")
    for t in (mean, var, weight, bias):
        if not b.is_const(t):
            raise Opaque("statistics computed from the input")
    ones = b.const(torch.ones(channels)) if weight is None else b.tensor_arg(weight)
    zeros = b.const(torch.zeros(channels)) if bias is None else b.tensor_arg(bias)
    inputs = [b.tensor_arg(x), ones, zeros, b.tensor_arg(mean), b.tensor_arg(var)]
    return b.emit(n, "BatchNormalization", inputs, {"epsilon": float(eps)})


def batch_norm_module(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    mod = b.gm.get_submodule(n.target)
    if mod.training or mod.running_mean is None:
        raise Opaque("batch statistics")
    x = b.tensor_arg(n.args[0])
    ones = b.module_param(mod, n.target, "weight") or b.const(torch.ones(mod.num_features))
    zeros = b.module_param(mod, n.target, "bias") or b.const(torch.zeros(mod.num_features))
    mean = b.module_param(mod, n.target, "running_mean")
    var = b.module_param(mod, n.target, "running_var")
    return b.emit(n, "BatchNormalization", [x, ones, zeros, mean, var], {"epsilon": float(mod.eps)})


def batch_norm_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "running_mean", "running_var", "weight", "bias", "training", "momentum",
                  "eps"], weight=None, bias=None, training=False, momentum=0.1, eps=1e-5)
    if b.value(a["training"]):
        raise Opaque("training")
    return _batch_norm(b, n, a["input"], a["running_mean"], a["running_var"], a["weight"],
                       a["bias"], b.value(a["eps"]), v.shape[1])


def batch_norm_aten(b: Builder, n: torch.fx.Node, v: Any) -> List[str]:
    """``aten.batch_norm`` and ``aten._native_batch_norm_legit_no_training`` (whose result is a tuple:
    the output, then statistics nobody should read)."""
    name = n.target.overloadpacket.__name__
    if name == "batch_norm":
        a = _args(n, ["input", "weight", "bias", "running_mean", "running_var", "training",
                      "momentum", "eps"])
        if b.value(a["training"]):
            raise Opaque("training")
    else:
        a = _args(n, ["input", "weight", "bias", "running_mean", "running_var", "momentum", "eps"])
    out = v[0] if isinstance(v, (tuple, list)) else v
    result = _batch_norm(b, n, a["input"], a["running_mean"], a["running_var"], a["weight"],
                         a["bias"], b.value(a["eps"]), out.shape[1])
    return [result] if isinstance(v, (tuple, list)) else result


# --------------------------------------------------------------------------------------------- pools


def _avg_pool(b: Builder, n: torch.fx.Node, x: Any, kernel: Any, stride: Any, padding: Any,
              ceil_mode: bool, count_include_pad: bool, divisor: Any, rank: int) -> str:
    if divisor is not None:
        raise Opaque("divisor_override")
    kernel = _tuple(kernel, rank)
    stride = _tuple(stride if stride not in (None, [], ()) else kernel, rank)
    pads = _tuple(padding, rank)
    attrs = {"kernel_shape": kernel, "strides": stride, "pads": pads + pads,
             "ceil_mode": int(bool(ceil_mode)), "count_include_pad": int(bool(count_include_pad))}
    return b.emit(n, "AveragePool", [b.tensor_arg(x)], attrs)


def avg_pool_module(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    mod = b.gm.get_submodule(n.target)
    rank = 1 if isinstance(mod, nn.AvgPool1d) else 2
    return _avg_pool(b, n, n.args[0], mod.kernel_size, mod.stride, mod.padding, mod.ceil_mode,
                     mod.count_include_pad, getattr(mod, "divisor_override", None), rank)


def avg_pool_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                  "divisor_override"], stride=None, padding=0, ceil_mode=False,
              count_include_pad=True, divisor_override=None)
    rank = len(v.shape) - 2
    return _avg_pool(b, n, a["input"], b.value(a["kernel_size"]), b.value(a["stride"]),
                     b.value(a["padding"]), b.value(a["ceil_mode"]),
                     b.value(a["count_include_pad"]), b.value(a["divisor_override"]), rank)


def adaptive_avg_pool(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    x = n.args[0] if n.args else n.kwargs["input"]
    dims_in = list(b.value(x).shape)[2:]
    dims_out = list(v.shape)[2:]
    if all(d == 1 for d in dims_out):
        return b.emit(n, "GlobalAveragePool", [b.tensor_arg(x)])
    if any(o == 0 or i % o for i, o in zip(dims_in, dims_out)):
        raise Opaque("windows of different sizes")
    kernel = [i // o for i, o in zip(dims_in, dims_out)]
    return _avg_pool(b, n, x, kernel, kernel, 0, False, True, None, len(kernel))


# ---------------------------------------------------------------------------------- pads and shapes


def pad_module(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    mod = b.gm.get_submodule(n.target)
    name = type(mod).__name__
    mode = ("reflect" if name.startswith("Reflection") else "replicate"
            if name.startswith("Replication") else "circular" if name.startswith("Circular")
            else "constant")
    return _pad(b, n, b.tensor_arg(n.args[0]), len(v.shape), mod.padding, mode,
                getattr(mod, "value", 0.0))


def pad_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "pad", "mode", "value"], mode="constant", value=None)
    return _pad(b, n, b.tensor_arg(a["input"]), len(v.shape), b.value(a["pad"]),
                b.value(a["mode"]), b.value(a["value"]) or 0.0)


def constant_pad_aten(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "pad", "value"], value=0.0)
    return _pad(b, n, b.tensor_arg(a["input"]), len(v.shape), b.value(a["pad"]), "constant",
                b.value(a["value"]))


def reshape(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    """Every op that only gives a new shape to the same elements: ``view``, ``flatten``, ``squeeze``..."""
    x = n.args[0] if n.args else next(iter(n.kwargs.values()))
    return b.emit(n, "Reshape", [b.tensor_arg(x), b.ints(list(v.shape))])


def identity(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    x = n.args[0] if n.args else next(iter(n.kwargs.values()))
    src = b.value(x)
    if not isinstance(src, torch.Tensor) or src.dtype != v.dtype or src.shape != v.shape:
        raise Opaque("changes the type")
    return b.emit(n, "Identity", [b.tensor_arg(x)])


def dropout_function(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "p", "training"], p=0.5, training=True)
    if b.value(a["training"]) and b.value(a["p"]) != 0:
        raise Opaque("dropout in training")
    return b.emit(n, "Identity", [b.tensor_arg(a["input"])])


def dropout_aten(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "p", "train"])
    if b.value(a["train"]) and b.value(a["p"]) != 0:
        raise Opaque("dropout in training")
    return b.emit(n, "Identity", [b.tensor_arg(a["input"])])


def permute(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    x, *rest = n.args
    dims = n.kwargs.get("dims", rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple))
                        else rest)
    rank = len(v.shape)
    perm = [_axis(int(d), rank) for d in b.value(list(dims))]
    return b.emit(n, "Transpose", [b.tensor_arg(x)], {"perm": perm})


def transpose(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["input", "dim0", "dim1"])
    rank = len(v.shape)
    perm = list(range(rank))
    d0, d1 = _axis(int(b.value(a["dim0"])), rank), _axis(int(b.value(a["dim1"])), rank)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return b.emit(n, "Transpose", [b.tensor_arg(a["input"])], {"perm": perm})


def _reduce(op: str) -> Mapper:
    def mapper(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
        a = _args(n, ["input", "dim", "keepdim"], dim=None, keepdim=False)
        if a.get("dtype") is not None:
            raise Opaque("dtype")
        x = b.value(a["input"])
        rank = len(x.shape)
        dim = b.value(a["dim"])
        dims = range(rank) if dim is None or dim == [] else dim if isinstance(dim, (list, tuple)) else [dim]
        axes = sorted(_axis(int(d), rank) for d in dims)
        return b.emit(n, op, [b.tensor_arg(a["input"]), b.ints(axes)],
                      {"keepdims": int(bool(b.value(a["keepdim"])))})

    return mapper


def cat(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    a = _args(n, ["tensors", "dim"], dim=0)
    _float_out(v)
    inputs = [b.tensor_arg(t) for t in a["tensors"]]
    return b.emit(n, "Concat", inputs, {"axis": _axis(int(b.value(a["dim"])), len(v.shape))})


def split(b: Builder, n: torch.fx.Node, v: Any) -> List[str]:
    a = _args(n, ["input", "size", "dim"], dim=0)
    if not isinstance(v, (tuple, list)) or not v:
        raise Opaque("not a split")
    rank = len(v[0].shape)
    axis = _axis(int(b.value(a["dim"])), rank)
    sizes = [int(t.shape[axis]) for t in v]
    outs = [f"{n.name}#{i}" for i in range(len(v))]
    b.emit(n, "Split", [b.tensor_arg(a["input"]), b.ints(sizes)], {"axis": axis}, outputs=outs)
    return outs


def getitem(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    src, index = n.args
    value = b.value(src)
    if isinstance(value, (tuple, list)):
        name = b.names.get(f"{src.name}#{int(index)}")
        if name is None:
            raise Opaque("an element of a tuple nobody mapped")
        return b.emit(n, "Identity", [name])
    if not isinstance(value, torch.Tensor):
        raise Opaque("not a tensor")
    return _slice(b, n, src, value, index, v)


def _slice(b: Builder, n: torch.fx.Node, src: Any, value: torch.Tensor, index: Any,
           v: torch.Tensor) -> str:
    index = b.value(index)
    items = list(index) if isinstance(index, tuple) else [index]
    if sum(i is Ellipsis for i in items) > 1 or any(
        not (i is Ellipsis or isinstance(i, (int, slice))) or isinstance(i, bool) for i in items
    ):
        raise Opaque("advanced indexing")
    rank = len(value.shape)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items = items[:k] + [slice(None)] * (rank - len(items) + 1) + items[k + 1 :]
    starts, ends, axes, steps = [], [], [], []
    for axis, item in enumerate(items):
        size = value.shape[axis]
        if isinstance(item, int):
            i = item + size if item < 0 else item
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1)
        elif item != slice(None):
            start, stop, step = item.indices(size)
            if step <= 0:
                raise Opaque("negative step")
            starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
    x = b.tensor_arg(src)
    if axes:
        sliced = [f"{n.name}#slice"]
        x = b.emit(n, "Slice", [x, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)],
                   part="slice", outputs=sliced)
    return b.emit(n, "Reshape", [x, b.ints(list(v.shape))])


def _binary(op: str) -> Mapper:
    def mapper(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
        _float_out(v)
        x, y = n.args[0], n.args[1] if len(n.args) > 1 else n.kwargs["other"]
        alpha = n.args[2] if len(n.args) > 2 else n.kwargs.get("alpha", 1)
        if b.value(alpha) != 1 or n.kwargs.get("rounding_mode") is not None:
            raise Opaque("alpha or rounding mode")
        return b.emit(n, op, [b.tensor_arg(x), b.tensor_arg(y)])

    return mapper


def neg(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    _float_out(v)
    return b.emit(n, "Mul", [b.tensor_arg(n.args[0]), b.const(-1.0)])


def pixel_shuffle(b: Builder, n: torch.fx.Node, v: torch.Tensor) -> str:
    if n.op == "call_module":
        r = b.gm.get_submodule(n.target).upscale_factor
    else:
        r = b.value(n.args[1] if len(n.args) > 1 else n.kwargs["upscale_factor"])
    if len(v.shape) != 4:
        raise Opaque("not 4-d")
    return b.emit(n, "DepthToSpace", [b.tensor_arg(n.args[0])], {"blocksize": int(r), "mode": "CRD"})


# ---------------------------------------------------------------------------------------------- tables

MODULES: Dict[type, Mapper] = {
    nn.Conv1d: conv_module,
    nn.Conv2d: conv_module,
    nn.ConvTranspose2d: conv_transpose_module,
    nn.Linear: linear_module,
    nn.BatchNorm1d: batch_norm_module,
    nn.BatchNorm2d: batch_norm_module,
    nn.AvgPool1d: avg_pool_module,
    nn.AvgPool2d: avg_pool_module,
    nn.AdaptiveAvgPool1d: adaptive_avg_pool,
    nn.AdaptiveAvgPool2d: adaptive_avg_pool,
    nn.Flatten: reshape,
    nn.Unflatten: reshape,
    nn.Identity: identity,
    nn.Dropout: identity,
    nn.Dropout1d: identity,
    nn.Dropout2d: identity,
    nn.AlphaDropout: identity,
    nn.ZeroPad1d: pad_module,
    nn.ZeroPad2d: pad_module,
    nn.ConstantPad1d: pad_module,
    nn.ConstantPad2d: pad_module,
    nn.ReflectionPad1d: pad_module,
    nn.ReflectionPad2d: pad_module,
    nn.ReplicationPad1d: pad_module,
    nn.ReplicationPad2d: pad_module,
    nn.CircularPad1d: pad_module,
    nn.CircularPad2d: pad_module,
    nn.PixelShuffle: pixel_shuffle,
}

FUNCTIONS: Dict[Any, Mapper] = {
    F.conv1d: conv_function,
    F.conv2d: conv_function,
    F.conv_transpose2d: conv_transpose_function,
    F.linear: linear_function,
    F.batch_norm: batch_norm_function,
    F.avg_pool1d: avg_pool_function,
    F.avg_pool2d: avg_pool_function,
    F.adaptive_avg_pool1d: adaptive_avg_pool,
    F.adaptive_avg_pool2d: adaptive_avg_pool,
    F.pad: pad_function,
    F.dropout: dropout_function,
    F.pixel_shuffle: pixel_shuffle,
    torch.flatten: reshape,
    torch.reshape: reshape,
    torch.squeeze: reshape,
    torch.unsqueeze: reshape,
    torch.permute: permute,
    torch.transpose: transpose,
    torch.clone: identity,
    torch.cat: cat,
    torch.concat: cat,
    torch.split: split,
    torch.chunk: split,
    torch.mean: _reduce("ReduceMean"),
    torch.sum: _reduce("ReduceSum"),
    operator.add: _binary("Add"),
    operator.iadd: _binary("Add"),
    torch.add: _binary("Add"),
    operator.sub: _binary("Sub"),
    operator.isub: _binary("Sub"),
    torch.sub: _binary("Sub"),
    operator.mul: _binary("Mul"),
    operator.imul: _binary("Mul"),
    torch.mul: _binary("Mul"),
    operator.truediv: _binary("Div"),
    operator.itruediv: _binary("Div"),
    torch.div: _binary("Div"),
    operator.neg: neg,
    torch.neg: neg,
    operator.getitem: getitem,
}

# the names a Tensor method and an aten operator share, with the same arguments
_SHARED: Dict[str, Mapper] = {
    "view": reshape,
    "reshape": reshape,
    "flatten": reshape,
    "unflatten": reshape,
    "squeeze": reshape,
    "unsqueeze": reshape,
    "permute": permute,
    "transpose": transpose,
    "contiguous": identity,
    "clone": identity,
    "split": split,
    "chunk": split,
    "mean": _reduce("ReduceMean"),
    "sum": _reduce("ReduceSum"),
    "add": _binary("Add"),
    "add_": _binary("Add"),
    "sub": _binary("Sub"),
    "mul": _binary("Mul"),
    "mul_": _binary("Mul"),
    "div": _binary("Div"),
    "neg": neg,
}

METHODS: Dict[str, Mapper] = {
    **_SHARED,
    "view_as": reshape,
    "reshape_as": reshape,
    "to": identity,  # refused (a boundary) when the type changes
    "type_as": identity,
    "float": identity,
}

ATEN: Dict[str, Mapper] = {
    **_SHARED,
    "conv1d": conv_function,
    "conv2d": conv_function,
    "conv_transpose2d": conv_transpose_function,
    "linear": linear_function,
    "batch_norm": batch_norm_aten,
    "_native_batch_norm_legit_no_training": batch_norm_aten,
    "avg_pool1d": avg_pool_function,
    "avg_pool2d": avg_pool_function,
    "adaptive_avg_pool1d": adaptive_avg_pool,
    "adaptive_avg_pool2d": adaptive_avg_pool,
    "_adaptive_avg_pool2d": adaptive_avg_pool,
    "constant_pad_nd": constant_pad_aten,
    "pad": pad_function,
    "dropout": dropout_aten,
    "pixel_shuffle": pixel_shuffle,
    "_unsafe_view": reshape,
    "alias": identity,
    "detach": identity,
    "cat": cat,
    "split_with_sizes": split,
}
