#!/usr/bin/env python3
"""Hostile inputs for the command line: malformed ONNX files, chain specs and safetensors files.

    python3 scripts/make_hostile.py [tests/data/hostile]     # needs onnx, onnxruntime, numpy, safetensors

Small valid base models (Conv -> BatchNormalization -> Conv -> Flatten -> Gemm, Conv -> Reshape -> Gemm,
Pad -> Conv, Transpose, Slice, Split/Concat, Squeeze, MatMul, AveragePool, Resize) and a small chain spec
with its weights are mutated one fault at a time: attributes of the wrong length or range, kernels that
contradict their weights, broken initializers, broken graphs, files cut short or made of garbage, external
data that leaves the folder, chain specs with wrong keys and safetensors files with broken headers. A few
valid models that stress memory or arithmetic (a 1700x1700 image, two 64-channel convolutions on 256x256)
are included as cases that must be accepted.

Every ONNX case is run in onnxruntime (CPU, in a child process under a 4 GiB address-space limit) to
record whether it accepts the file. `manifest.json` lists every case:

- `name`, `kind` (`onnx` or `spec`), `why` (what is mutated);
- `args`: the command line after the binary, with `{dir}` for this folder and `{out}` for the output path
  (its extension is `out_ext`); `inspect_args` (ONNX only): the same file through `inspect`;
- `expect`: `refuse` (exit 2, one line on stderr naming every `culprit`, saying none of the `forbid`
  phrases, nothing written; a culprit `a|b` is named when `a` or `b` is),
  `accept` (exit 0, and the collapsed model agrees with onnxruntime's outputs of the original), or
  `either` (a valid but degenerate or enormous model: refused as `refuse` says, or accepted as `accept`
  says). By default a case is expected to be refused when onnxruntime refuses it and accepted when it
  runs it; the exceptions (non-finite weights, a negative variance, no default opset) say so in `why`;
  `inspect_expect`: the same for `inspect`, or `any` (no crash either way);
- `ort`: onnxruntime's verdict on the file (`accepts`, `refuses: <its message>`, or `not run: <why>`);
  `checker`: `onnx.checker.check_model(full_check=True)`'s verdict;
- `compare`: true when `NAME.inputs.npy` and `NAME.outputs.npy` (onnxruntime's outputs) are saved; for
  an accepted chain spec, `NAME.weight.npy` and `NAME.bias.npy` hold the collapsed Linear computed with
  numpy (float64), and `compare` is true.

The output is deterministic: fixed seeds, and the files are written the same way on every run.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8
MEM_LIMIT = 4 << 30
ORT_TIMEOUT = 120


# --------------------------------------------------------------------------------------------------
# building blocks


def rng_for(name):
    """A generator seeded from the case name, so each case's data does not depend on the others."""
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(name)))


def f32(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def i64(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.int64), name)


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def rename_io(n):
    """The graph input and output are `x_in` and `y_out` (names no message says by accident); the
    builders below write `x` and `y`."""
    for i, v in enumerate(n.input):
        if v == "x":
            n.input[i] = "x_in"
    for i, v in enumerate(n.output):
        if v == "y":
            n.output[i] = "y_out"
    return n


def make_model(name, nodes, inits, x_shape, y_shape, opset=OPSET):
    nodes = [rename_io(n) for n in nodes]
    graph = helper.make_graph(nodes, name, [vi("x_in", x_shape)], [vi("y_out", y_shape)], inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_hostile"
    )
    model.ir_version = IR_VERSION
    return model


def conv(name, x, y, w, b=None, **attrs):
    inputs = [x, f"{name}.weight"] + ([f"{name}.bias"] if b is not None else [])
    node = helper.make_node("Conv", inputs, [y], name=name, **attrs)
    inits = [f32(f"{name}.weight", w)] + ([f32(f"{name}.bias", b)] if b is not None else [])
    return node, inits


def weights(r, *shape):
    return (r.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# valid base models; every node has a distinctive name, every initializer is `<node>.<role>`


def base_cbcfg():
    """x (1,3,8,8) -> conv1 -> bn1 -> conv2 (stride 2) -> flat -> fc: y (1,5)."""
    r = rng_for("cbcfg")
    n1, i1 = conv("conv1", "x", "c1", weights(r, 4, 3, 3, 3), r.standard_normal(4) * 0.1,
                  kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    bn = helper.make_node("BatchNormalization",
                          ["c1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["b1"], name="bn1")
    ibn = [f32("bn1.scale", r.uniform(0.5, 1.5, 4)), f32("bn1.bias", r.standard_normal(4) * 0.1),
           f32("bn1.mean", r.standard_normal(4) * 0.1), f32("bn1.var", r.uniform(0.5, 1.5, 4))]
    n2, i2 = conv("conv2", "b1", "c2", weights(r, 4, 4, 3, 3), r.standard_normal(4) * 0.1,
                  kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    fl = helper.make_node("Flatten", ["c2"], ["f"], name="flat", axis=1)
    fc = helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name="fc", transB=1)
    ifc = [f32("fc.weight", weights(r, 5, 64)), f32("fc.bias", r.standard_normal(5) * 0.1)]
    return make_model("cbcfg", [n1, bn, n2, fl, fc], i1 + ibn + i2 + ifc, [1, 3, 8, 8], [1, 5])


def base_reshape():
    """x (1,4,4,4) -> conv_r (1x1) -> reshape_r [1, 64] -> fc_r: y (1,5)."""
    r = rng_for("reshape")
    n1, i1 = conv("conv_r", "x", "c", weights(r, 4, 4, 1, 1), r.standard_normal(4) * 0.1)
    rs = helper.make_node("Reshape", ["c", "reshape_r.shape"], ["f"], name="reshape_r")
    fc = helper.make_node("Gemm", ["f", "fc_r.weight", "fc_r.bias"], ["y"], name="fc_r", transB=1)
    inits = i1 + [i64("reshape_r.shape", [1, 64]), f32("fc_r.weight", weights(r, 5, 64)),
                  f32("fc_r.bias", r.standard_normal(5) * 0.1)]
    return make_model("reshape", [n1, rs, fc], inits, [1, 4, 4, 4], [1, 5])


def base_pad(pads=(0, 0, 1, 1, 0, 0, 1, 1), y_hw=(6, 6)):
    """x (1,2,6,6) -> pad_p (constant) -> conv_p (3x3): y (1,3,6,6)."""
    r = rng_for("pad")
    pad = helper.make_node("Pad", ["x", "pad_p.pads", "pad_p.value"], ["p"], name="pad_p",
                           mode="constant")
    n1, i1 = conv("conv_p", "p", "y", weights(r, 3, 2, 3, 3), r.standard_normal(3) * 0.1)
    inits = [i64("pad_p.pads", list(pads)), f32("pad_p.value", 0.0)] + i1
    return make_model("pad", [pad, n1], inits, [1, 2, 6, 6], [1, 3, *y_hw])


def base_transpose():
    """x (1,2,4,6) -> conv_t (1x1) -> transpose_t [0,1,3,2] -> conv_t2 (3x3, pad 1): y (1,2,6,4)."""
    r = rng_for("transpose")
    n1, i1 = conv("conv_t", "x", "c", weights(r, 3, 2, 1, 1), r.standard_normal(3) * 0.1)
    tr = helper.make_node("Transpose", ["c"], ["t"], name="transpose_t", perm=[0, 1, 3, 2])
    n2, i2 = conv("conv_t2", "t", "y", weights(r, 2, 3, 3, 3), None, pads=[1, 1, 1, 1])
    return make_model("transpose", [n1, tr, n2], i1 + i2, [1, 2, 4, 6], [1, 2, 6, 4])


def base_slice():
    """x (1,2,8,8) -> conv_s (3x3, pad 1) -> slice_s (axis 3, 1:7) -> conv_s2 (1x1): y (1,2,8,6)."""
    r = rng_for("slice")
    n1, i1 = conv("conv_s", "x", "c", weights(r, 2, 2, 3, 3), r.standard_normal(2) * 0.1,
                  pads=[1, 1, 1, 1])
    sl = helper.make_node("Slice", ["c", "slice_s.starts", "slice_s.ends", "slice_s.axes",
                                    "slice_s.steps"], ["s"], name="slice_s")
    n2, i2 = conv("conv_s2", "s", "y", weights(r, 2, 2, 1, 1), None)
    inits = i1 + [i64("slice_s.starts", [1]), i64("slice_s.ends", [7]), i64("slice_s.axes", [3]),
                  i64("slice_s.steps", [1])] + i2
    return make_model("slice", [n1, sl, n2], inits, [1, 2, 8, 8], [1, 2, 8, 6])


def base_split():
    """x (1,4,4,4) -> conv_sp (1x1) -> split_s [2,2] -> concat_c (swapped) -> conv_sp2 (3x3): y (1,3,4,4)."""
    r = rng_for("split")
    n1, i1 = conv("conv_sp", "x", "c", weights(r, 4, 4, 1, 1), r.standard_normal(4) * 0.1)
    sp = helper.make_node("Split", ["c", "split_s.split"], ["a", "b"], name="split_s", axis=1)
    cc = helper.make_node("Concat", ["b", "a"], ["cat"], name="concat_c", axis=1)
    n2, i2 = conv("conv_sp2", "cat", "y", weights(r, 3, 4, 3, 3), None, pads=[1, 1, 1, 1])
    inits = i1 + [i64("split_s.split", [2, 2])] + i2
    return make_model("split", [n1, sp, cc, n2], inits, [1, 4, 4, 4], [1, 3, 4, 4])


def base_squeeze():
    """x (1,4,8,8) -> conv_sq (8x8 kernel) -> squeeze_s axes [2,3] -> fc_sq: y (1,5)."""
    r = rng_for("squeeze")
    n1, i1 = conv("conv_sq", "x", "c", weights(r, 6, 4, 8, 8), r.standard_normal(6) * 0.1)
    sq = helper.make_node("Squeeze", ["c", "squeeze_s.axes"], ["s"], name="squeeze_s")
    fc = helper.make_node("Gemm", ["s", "fc_sq.weight", "fc_sq.bias"], ["y"], name="fc_sq", transB=1)
    inits = i1 + [i64("squeeze_s.axes", [2, 3]), f32("fc_sq.weight", weights(r, 5, 6)),
                  f32("fc_sq.bias", r.standard_normal(5) * 0.1)]
    return make_model("squeeze", [n1, sq, fc], inits, [1, 4, 8, 8], [1, 5])


def base_matmul():
    """x (1,4,8) -> mm (8x5) -> mm_add (5,) -> mm2 (5x3): y (1,4,3)."""
    r = rng_for("matmul")
    nodes = [helper.make_node("MatMul", ["x", "mm.weight"], ["a"], name="mm"),
             helper.make_node("Add", ["a", "mm_add.bias"], ["b"], name="mm_add"),
             helper.make_node("MatMul", ["b", "mm2.weight"], ["y"], name="mm2")]
    inits = [f32("mm.weight", weights(r, 8, 5)), f32("mm_add.bias", r.standard_normal(5)),
             f32("mm2.weight", weights(r, 5, 3))]
    return make_model("matmul", nodes, inits, [1, 4, 8], [1, 4, 3])


def base_avgpool():
    """x (1,2,8,8) -> conv_ap (3x3, pad 1) -> pool_a (2x2, stride 2) -> flat_a -> fc_a: y (1,4)."""
    r = rng_for("avgpool")
    n1, i1 = conv("conv_ap", "x", "c", weights(r, 3, 2, 3, 3), r.standard_normal(3) * 0.1,
                  pads=[1, 1, 1, 1])
    pool = helper.make_node("AveragePool", ["c"], ["p"], name="pool_a", kernel_shape=[2, 2],
                            strides=[2, 2])
    fl = helper.make_node("Flatten", ["p"], ["f"], name="flat_a")
    fc = helper.make_node("Gemm", ["f", "fc_a.weight", "fc_a.bias"], ["y"], name="fc_a", transB=1)
    inits = i1 + [f32("fc_a.weight", weights(r, 4, 48)), f32("fc_a.bias", r.standard_normal(4) * 0.1)]
    return make_model("avgpool", [n1, pool, fl, fc], inits, [1, 2, 8, 8], [1, 4])


def base_resize():
    """x (1,2,4,4) -> conv_rs (1x1) -> resize_r (nearest, x2) -> conv_rs2 (3x3, pad 1): y (1,2,8,8)."""
    r = rng_for("resize")
    n1, i1 = conv("conv_rs", "x", "c", weights(r, 2, 2, 1, 1), r.standard_normal(2) * 0.1)
    rs = helper.make_node("Resize", ["c", "", "resize_r.scales"], ["u"], name="resize_r",
                          mode="nearest")
    n2, i2 = conv("conv_rs2", "u", "y", weights(r, 2, 2, 3, 3), None, pads=[1, 1, 1, 1])
    inits = i1 + [f32("resize_r.scales", [1, 1, 2, 2])] + i2
    return make_model("resize", [n1, rs, n2], inits, [1, 2, 4, 4], [1, 2, 8, 8])


def base_conv1700():
    """The issue's overflow: Conv(1x1, bias) -> Conv(3x3, pad 1) on a 1x1700x1700 image. The image is made
    inside the graph (nearest Resize x100 of a 17x17 input) and reduced after a ReLU by a 100x100 MaxPool,
    so the saved inputs and outputs stay small."""
    r = rng_for("conv1700")
    up = helper.make_node("Resize", ["x", "", "up.scales"], ["u"], name="up", mode="nearest")
    n1, i1 = conv("conv_a", "u", "a", weights(r, 1, 1, 1, 1), [0.25])
    n2, i2 = conv("conv_b", "a", "b", weights(r, 1, 1, 3, 3), None, pads=[1, 1, 1, 1])
    relu = helper.make_node("Relu", ["b"], ["rb"], name="relu_b")
    pool = helper.make_node("MaxPool", ["rb"], ["y"], name="pool_b", kernel_shape=[100, 100],
                            strides=[100, 100])
    inits = [f32("up.scales", [1, 1, 100, 100])] + i1 + i2
    return make_model("conv1700", [up, n1, n2, relu, pool], inits, [1, 1, 17, 17], [1, 1, 17, 17])


def base_conv1700_direct():
    """The issue's overflow as it was reported: the 1x1700x1700 image is the graph input (too large to
    save, so onnxruntime's outputs are not stored)."""
    r = rng_for("conv1700")
    n1, i1 = conv("conv_a", "x", "a", weights(r, 1, 1, 1, 1), [0.25])
    n2, i2 = conv("conv_b", "a", "y", weights(r, 1, 1, 3, 3), None, pads=[1, 1, 1, 1])
    return make_model("conv1700_direct", [n1, n2], i1 + i2, [1, 1, 1700, 1700], [1, 1, 1700, 1700])


def base_conv64():
    """The issue's memory kill: two Conv 64->64, 3x3, pad 1 on 64x256x256 (inspect must not blow up)."""
    r = rng_for("conv64")
    n1, i1 = conv("conv64_a", "x", "a", weights(r, 64, 64, 3, 3), None, pads=[1, 1, 1, 1])
    n2, i2 = conv("conv64_b", "a", "y", weights(r, 64, 64, 3, 3), None, pads=[1, 1, 1, 1])
    return make_model("conv64", [n1, n2], i1 + i2, [1, 64, 256, 256], [1, 64, 256, 256])


# --------------------------------------------------------------------------------------------------
# mutation helpers


def copy(m):
    c = onnx.ModelProto()
    c.CopyFrom(m)
    return c


def node(m, name):
    return next(n for n in m.graph.node if n.name == name)


def init(m, name):
    return next(t for t in m.graph.initializer if t.name == name)


def set_attr(m, node_name, attr, value):
    n = node(m, node_name)
    kept = [a for a in n.attribute if a.name != attr]
    del n.attribute[:]
    n.attribute.extend(kept)
    n.attribute.append(helper.make_attribute(attr, value))
    return m


def replace_init(m, tensor):
    t = init(m, tensor.name)
    t.CopyFrom(tensor)
    return m


def set_ints(m, name, values):
    return replace_init(m, i64(name, values))


def set_input_dims(m, dims):
    shape = m.graph.input[0].type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        shape.dim.add().dim_value = d
    return m


def unknown_output_shape(m):
    """Makes every dim of the declared output symbolic, so a mutation that changes it is judged by the
    nodes alone."""
    for i, d in enumerate(m.graph.output[0].type.tensor_type.shape.dim):
        d.Clear()
        d.dim_param = f"out_{i}"
    return m


# --------------------------------------------------------------------------------------------------
# the ONNX cases: (name, model or bytes, culprit, why, options)


def onnx_cases():
    B = base_cbcfg
    cases = []

    def add(name, model, culprit, why, **opts):
        cases.append((name, model, culprit, why, opts))

    def mut(base, f):
        return f(copy(base()))

    # valid models first: they must be collapsed and agree with onnxruntime
    for name, base in [("ok_cbcfg", base_cbcfg), ("ok_reshape", base_reshape), ("ok_pad", base_pad),
                       ("ok_transpose", base_transpose), ("ok_slice", base_slice),
                       ("ok_split", base_split), ("ok_squeeze", base_squeeze),
                       ("ok_matmul", base_matmul), ("ok_avgpool", base_avgpool),
                       ("ok_resize", base_resize)]:
        add(name, base(), [], "valid base model", expect="accept")
    add("ok_pad_negative_crop",
        base_pad(pads=(0, 0, -1, 0, 0, 0, 0, -1), y_hw=(3, 3)),
        [], "Pad with negative pads that crop inside the image (valid ONNX)", expect="accept")
    add("ok_conv1700", base_conv1700(), [],
        "Conv(1x1, bias) -> Conv(3x3, pad 1) on a 1x1700x1700 image made by Resize (the issue's multiply "
        "overflow)", expect="accept")
    add("ok_conv1700_direct", base_conv1700_direct(), [],
        "the same two convolutions with a 1x1x1700x1700 graph input (outputs not saved)",
        expect="accept", run_ort=False)
    add("ok_conv64_256", base_conv64(), [],
        "two Conv 64->64 3x3 pad 1 on 1x64x256x256 (the issue's inspect killed by memory; outputs not "
        "saved)", expect="accept", run_ort=False)

    # Conv attributes
    add("conv_pads_negative", mut(B, lambda m: set_attr(m, "conv1", "pads", [-1, -1, -1, -1])),
        ["conv1", "pad"], "Conv pads [-1,-1,-1,-1]")
    add("conv_pads_wrong_len", mut(B, lambda m: set_attr(m, "conv1", "pads", [1, 1, 1])),
        ["conv1", "pads"], "Conv pads of 3 values for 2 spatial axes")
    add("conv_pads_huge", mut(B, lambda m: set_attr(m, "conv1", "pads", [1 << 40] * 4)),
        ["conv1|flat"], "Conv pads of 2^40: an output of 2^41 x 2^41 (its size overflows at the Flatten)")
    add("conv_strides_wrong_len", mut(B, lambda m: set_attr(m, "conv2", "strides", [2, 2, 2])),
        ["conv2", "strides"], "Conv strides of 3 values for 2 spatial axes")
    add("conv_strides_zero", mut(B, lambda m: set_attr(m, "conv2", "strides", [0, 0])),
        ["conv2", "strides"], "Conv strides [0,0]")
    add("conv_strides_negative", mut(B, lambda m: set_attr(m, "conv2", "strides", [-2, 2])),
        ["conv2", "strides"], "Conv strides [-2,2]")
    add("conv_dilations_zero", mut(B, lambda m: set_attr(m, "conv1", "dilations", [0, 1])),
        ["conv1", "dilations"], "Conv dilations [0,1]")
    add("conv_dilations_negative", mut(B, lambda m: set_attr(m, "conv1", "dilations", [-1, -1])),
        ["conv1", "dilations"], "Conv dilations [-1,-1]")
    add("conv_kernel_shape_contradicts", mut(B, lambda m: set_attr(m, "conv1", "kernel_shape", [5, 5])),
        ["conv1", "kernel_shape"], "Conv kernel_shape [5,5] with a 3x3 weight")
    add("conv_auto_pad_bogus", mut(B, lambda m: set_attr(m, "conv1", "auto_pad", "SAME_MIDDLE")),
        ["conv1", "auto_pad", "SAME_MIDDLE"], "Conv auto_pad 'SAME_MIDDLE' (no such value)")
    add("conv_group_not_dividing",
        mut(B, lambda m: replace_init(set_attr(m, "conv1", "group", 3),
                                      f32("conv1.weight", weights(rng_for("g3"), 4, 1, 3, 3)))),
        ["conv1", "group"], "Conv group 3 with 3 input and 4 output channels")
    add("conv_group_zero", mut(B, lambda m: set_attr(m, "conv1", "group", 0)),
        ["conv1", "group"], "Conv group 0")
    add("conv_weight_rank_wrong",
        mut(B, lambda m: replace_init(m, f32("conv1.weight", weights(rng_for("r3"), 4, 3, 9)))),
        ["conv1", "weight"], "Conv weight of rank 3 (4,3,9) on a 2-D image")
    add("conv_weight_channels_mismatch",
        mut(B, lambda m: replace_init(m, f32("conv1.weight", weights(rng_for("c5"), 4, 5, 3, 3)))),
        ["conv1", "weight"], "Conv weight (4,5,3,3) on a 3-channel input")
    add("conv_bias_wrong_len",
        mut(B, lambda m: replace_init(m, f32("conv1.bias", np.ones(5)))),
        ["conv1", "bias"], "Conv bias of 5 values for 4 output channels")
    add("conv_kernel_larger_than_input",
        mut(B, lambda m: replace_init(set_attr(set_attr(m, "conv1", "pads", [0, 0, 0, 0]), "conv1",
                                               "kernel_shape", [9, 9]),
                                      f32("conv1.weight", weights(rng_for("k9"), 4, 3, 9, 9)))),
        ["conv1"], "Conv 9x9 kernel, no padding, on an 8x8 image")

    # Reshape
    add("reshape_two_minus_one", mut(base_reshape, lambda m: set_ints(m, "reshape_r.shape", [-1, -1])),
        ["reshape_r"], "Reshape target [-1,-1]")
    add("reshape_negative", mut(base_reshape, lambda m: set_ints(m, "reshape_r.shape", [1, -2, 32])),
        ["reshape_r", "-2"], "Reshape target [1,-2,32]")
    add("reshape_wrong_count", mut(base_reshape, lambda m: set_ints(m, "reshape_r.shape", [1, 65])),
        ["reshape_r", "65"], "Reshape target [1,65] for 64 elements")
    add("reshape_huge",
        mut(base_reshape, lambda m: set_ints(m, "reshape_r.shape", [0, -1, 1 << 32, 1 << 32])),
        ["reshape_r"], "Reshape target [0,-1,2^32,2^32] (the issue's overflow)")

    # Pad
    add("pad_wrong_count", mut(base_pad, lambda m: set_ints(m, "pad_p.pads", [0, 0, 1, 1, 1, 1])),
        ["pad_p", "pads"], "Pad with 6 pads for a rank-4 input")
    add("pad_crop_past_image",
        mut(base_pad, lambda m: set_ints(m, "pad_p.pads", [0, 0, -4, -4, 0, 0, -4, -4])),
        ["pad_p", "pads"], "Pad with pads -4 on both sides of a 6x6 image")
    add("pad_mode_bogus", mut(base_pad, lambda m: set_attr(m, "pad_p", "mode", "mirror")),
        ["pad_p", "mode", "mirror"], "Pad mode 'mirror' (no such mode)")

    # Transpose
    add("transpose_perm_duplicate", mut(base_transpose,
                                        lambda m: set_attr(m, "transpose_t", "perm", [0, 0, 1, 2])),
        ["transpose_t", "perm"], "Transpose perm [0,0,1,2] (the issue's debug panic)")
    add("transpose_perm_out_of_range", mut(base_transpose,
                                           lambda m: set_attr(m, "transpose_t", "perm", [0, 1, 2, 7])),
        ["transpose_t", "perm"], "Transpose perm [0,1,2,7] on a rank-4 value")
    add("transpose_perm_short", mut(base_transpose,
                                    lambda m: set_attr(m, "transpose_t", "perm", [0, 1, 2])),
        ["transpose_t", "perm"], "Transpose perm of 3 values on a rank-4 value")
    add("transpose_perm_negative", mut(base_transpose,
                                       lambda m: set_attr(m, "transpose_t", "perm", [0, 1, -1, 2])),
        ["transpose_t", "perm"], "Transpose perm [0,1,-1,2]")

    # Slice
    add("slice_step_zero", mut(base_slice, lambda m: set_ints(m, "slice_s.steps", [0])),
        ["slice_s", "step"], "Slice steps [0]")
    add("slice_axis_out_of_range", mut(base_slice, lambda m: set_ints(m, "slice_s.axes", [5])),
        ["slice_s", "axes"], "Slice axes [5] on a rank-4 value")
    add("slice_lengths_differ", mut(base_slice, lambda m: set_ints(m, "slice_s.starts", [1, 1])),
        ["slice_s", "starts"], "Slice with 2 starts and 1 end")

    # Split / Concat
    add("split_sizes_not_summing", mut(base_split, lambda m: set_ints(m, "split_s.split", [2, 3])),
        ["split_s", "split"], "Split sizes [2,3] of a 4-channel value")
    add("split_size_negative", mut(base_split, lambda m: set_ints(m, "split_s.split", [5, -1])),
        ["split_s", "split"], "Split sizes [5,-1]")
    add("concat_axis_out_of_range", mut(base_split, lambda m: set_attr(m, "concat_c", "axis", 7)),
        ["concat_c", "axis"], "Concat axis 7 on rank-4 values")

    def concat_mismatch(m):
        r = rng_for("cm")
        m.graph.initializer.append(f32("concat_c.extra", r.standard_normal((1, 2, 3, 3))))
        n = node(m, "concat_c")
        n.input[0] = "concat_c.extra"
        return m

    add("concat_shape_mismatch", mut(base_split, concat_mismatch),
        ["concat_c"], "Concat of a (1,2,3,3) constant with a (1,2,4,4) value on axis 1")

    # Squeeze
    add("squeeze_axis_out_of_range", mut(base_squeeze, lambda m: set_ints(m, "squeeze_s.axes", [2, 5])),
        ["squeeze_s", "axes"], "Squeeze axes [2,5] on a rank-4 value")
    add("squeeze_axis_not_one", mut(base_squeeze, lambda m: set_ints(m, "squeeze_s.axes", [1])),
        ["squeeze_s", "axis|axes"], "Squeeze axis 1 of size 6")

    # Gemm / MatMul
    add("gemm_transb_wrong",
        mut(B, lambda m: replace_init(m, f32("fc.weight", weights(rng_for("tb"), 64, 5)))),
        ["fc", "fc.weight|transB"], "Gemm transB=1 with a (64,5) weight: inner dims 64 vs 5")
    add("gemm_bias_wrong_len", mut(B, lambda m: replace_init(m, f32("fc.bias", np.ones(7)))),
        ["fc", "fc.bias|C [7]"], "Gemm C of 7 values for 5 outputs")
    add("matmul_inner_mismatch",
        mut(base_matmul, lambda m: replace_init(m, f32("mm.weight", weights(rng_for("mi"), 9, 5)))),
        ["mm", "mm.weight|B [9, 5]"], "MatMul of (1,4,8) by (9,5)")

    # AveragePool
    def no_kernel(m):
        n = node(m, "pool_a")
        kept = [a for a in n.attribute if a.name != "kernel_shape"]
        del n.attribute[:]
        n.attribute.extend(kept)
        return m

    add("avgpool_kernel_missing", mut(base_avgpool, no_kernel),
        ["pool_a", "kernel_shape"], "AveragePool without kernel_shape")
    add("avgpool_stride_zero", mut(base_avgpool, lambda m: set_attr(m, "pool_a", "strides", [0, 0])),
        ["pool_a", "strides"], "AveragePool strides [0,0]")
    add("avgpool_pads_over_kernel",
        mut(base_avgpool, lambda m: replace_init(set_attr(m, "pool_a", "pads", [3, 3, 3, 3]),
                                                 f32("fc_a.weight", weights(rng_for("po"), 4, 147)))),
        ["pool_a", "pad"], "AveragePool pads 3 with a 2x2 kernel (windows of padding only; fc_a fits)")
    add("avgpool_kernel_larger_than_input",
        mut(base_avgpool, lambda m: set_attr(m, "pool_a", "kernel_shape", [20, 20])),
        ["pool_a", "kernel|window"], "AveragePool 20x20 kernel on an 8x8 image")

    # Resize
    add("resize_scale_zero",
        mut(base_resize, lambda m: replace_init(m, f32("resize_r.scales", [1, 1, 0, 0]))),
        ["resize_r", "scale"], "Resize scales [1,1,0,0]")
    add("resize_scale_negative",
        mut(base_resize, lambda m: replace_init(m, f32("resize_r.scales", [1, 1, -2, -2]))),
        ["resize_r", "scale"], "Resize scales [1,1,-2,-2]")
    add("resize_mode_bogus", mut(base_resize, lambda m: set_attr(m, "resize_r", "mode", "bicubicish")),
        ["resize_r", "mode", "bicubicish"], "Resize mode 'bicubicish' (no such mode)")

    # BatchNormalization
    add("bn_scale_wrong_len", mut(B, lambda m: replace_init(m, f32("bn1.scale", np.ones(3)))),
        ["bn1", "scale"], "BatchNormalization scale of 3 values for 4 channels")
    add("bn_var_negative", mut(B, lambda m: replace_init(m, f32("bn1.var", [1.0, -4.0, 1.0, 1.0]))),
        ["bn1", "var"], "BatchNormalization with a variance of -4 (sqrt of a negative: NaN outputs)",
        expect="refuse")

    # initializers
    def truncate_raw(m):
        t = init(m, "conv1.weight")
        t.raw_data = t.raw_data[: len(t.raw_data) // 2]
        return m

    def huge_dims(m):
        t = init(m, "fc.weight")
        del t.dims[:]
        t.dims.extend([1 << 31, 1 << 31])
        return m

    def negative_dims(m):
        t = init(m, "conv1.weight")
        del t.dims[:]
        t.dims.extend([-4, 3, 3, 3])
        return m

    def float_data_short(m):
        t = TensorProto(name="conv2.bias", data_type=TensorProto.FLOAT, dims=[4])
        t.float_data.extend([0.1, 0.2, 0.3])
        return replace_init(m, t)

    def dtype_undefined(m):
        init(m, "conv1.bias").data_type = 0
        return m

    def dtype_unknown(m):
        init(m, "conv1.bias").data_type = 99
        return m

    def nan_weight(m):
        w = numpy_helper.to_array(init(m, "conv1.weight")).copy()
        w[1, 2, 0, 1] = np.nan
        return replace_init(m, f32("conv1.weight", w))

    def inf_weight(m):
        w = numpy_helper.to_array(init(m, "fc.weight")).copy()
        w[3, 7] = np.inf
        return replace_init(m, f32("fc.weight", w))

    add("init_raw_truncated", mut(B, truncate_raw), ["conv1.weight"],
        "initializer raw_data of half the bytes its dims need")
    add("init_dims_huge", mut(B, huge_dims), ["fc.weight"],
        "initializer dims [2^31, 2^31] with 320 floats of data")
    add("init_dims_negative", mut(B, negative_dims), ["conv1.weight"], "initializer dims [-4,3,3,3]")
    add("init_float_data_short", mut(B, float_data_short), ["conv2.bias"],
        "initializer float_data of 3 values for dims [4]")
    add("init_dtype_undefined", mut(B, dtype_undefined), ["conv1.bias"],
        "initializer data_type 0 (UNDEFINED)")
    add("init_dtype_unknown", mut(B, dtype_unknown), ["conv1.bias"], "initializer data_type 99")
    add("init_nan_weight", mut(B, nan_weight), ["conv1"],
        "a NaN in a Conv weight (onnxruntime runs it: NaN outputs)", expect="refuse")
    add("init_inf_weight", mut(B, inf_weight), ["fc"],
        "an Inf in a Gemm weight (onnxruntime runs it: Inf/NaN outputs)", expect="refuse")

    # graph structure
    def missing_input(m):
        node(m, "conv2").input[0] = "nowhere"
        return m

    def duplicate_output(m):
        node(m, "bn1").output[0] = "c2"
        node(m, "conv2").input[0] = "c2"
        return m

    def cycle(m):
        node(m, "conv1").input[0] = "c2"
        return m

    def output_not_produced(m):
        m.graph.output[0].name = "y_missing"
        return m

    def unknown_op(m):
        n = node(m, "bn1")
        n.op_type = "FooBar"
        n.name = "foo_node"
        del n.attribute[:]
        return m

    def no_op_type(m):
        node(m, "flat").op_type = ""
        return m

    def attr_type(m, attr_type):
        for a in node(m, "conv1").attribute:
            if a.name == "pads":
                a.type = attr_type
        return m

    def attr_unknown_type(m):
        # the onnx package only writes known enum values: write TYPE_PROTOS (14), then patch the byte
        data = attr_type(m, onnx.AttributeProto.TYPE_PROTOS).SerializeToString()
        tag = b"\xa0\x01\x0e"  # field 20 (type), varint 14
        assert data.count(tag) == 1
        return data.replace(tag, b"\xa0\x01\x63")

    def attr_wrong_type(m):
        n = node(m, "conv1")
        kept = [a for a in n.attribute if a.name != "pads"]
        del n.attribute[:]
        n.attribute.extend(kept)
        n.attribute.append(helper.make_attribute("pads", [1.0, 1.0, 1.0, 1.0]))
        return m

    def attr_repeated(m):
        node(m, "conv2").attribute.append(helper.make_attribute("strides", [1, 1]))
        return m

    add("graph_input_missing", mut(B, missing_input), ["conv2", "nowhere"],
        "a node input naming a value that nothing defines")
    add("graph_duplicate_output", mut(B, duplicate_output), ["c2"],
        "two nodes writing the same value 'c2'")
    add("graph_cycle", mut(B, cycle), ["conv1"], "conv1 reads conv2's output: a cycle")
    add("graph_output_not_produced", mut(B, output_not_produced), ["y_missing"],
        "the graph output 'y_missing' is produced by no node")
    add("graph_unknown_op", mut(B, unknown_op), ["foo_node", "FooBar"],
        "an op 'FooBar' that the default domain does not have")
    add("graph_empty_op_type", mut(B, no_op_type), ["flat"], "a node with an empty op_type")
    add("attr_unknown_type", mut(B, attr_unknown_type), ["conv1", "pads"],
        "Conv attribute 'pads' with attribute type 99")
    add("attr_undefined_type", mut(B, lambda m: attr_type(m, onnx.AttributeProto.UNDEFINED)),
        ["conv1", "pads"], "Conv attribute 'pads' with attribute type UNDEFINED")
    add("attr_wrong_type", mut(B, attr_wrong_type), ["conv1", "pads"],
        "Conv attribute 'pads' given as floats")
    add("attr_repeated", mut(B, attr_repeated), ["conv2", "strides"],
        "Conv attribute 'strides' given twice")

    # input dims
    T = base_transpose
    add("input_zero_dim", mut(T, lambda m: unknown_output_shape(set_input_dims(m, [1, 2, 0, 6]))),
        ["x_in"], "fully convolutional model, graph input (1,2,0,6): a zero-sized dimension (the issue's "
        "'unsupported op graph input')", forbid=["unsupported op graph input"])
    add("input_negative_dim", mut(T, lambda m: unknown_output_shape(set_input_dims(m, [1, 2, -4, 6]))),
        ["x_in"], "graph input with dim -4")
    add("input_huge_dims", mut(B, lambda m: unknown_output_shape(set_input_dims(m, [1, 3, 100000, 100000]))),
        [], "graph input (1,3,100000,100000) before a Gemm that takes 64 values: must be refused fast, "
        "without allocating", run_ort=False)
    add("input_huge_conv",
        mut(T, lambda m: unknown_output_shape(set_input_dims(m, [1, 2, 100000, 100000]))),
        [], "fully convolutional model on a (1,2,100000,100000) input (8e10 bytes): refused fast or "
        "rewritten without allocating image-sized buffers", run_ort=False, expect="either")

    # opsets
    def opset(m, version):
        del m.opset_import[:]
        m.opset_import.extend([helper.make_opsetid("", version)])
        return m

    def no_default_opset(m):
        del m.opset_import[:]
        m.opset_import.extend([helper.make_opsetid("com.microsoft", 1)])
        return m

    add("opset_future", mut(B, lambda m: opset(m, 99)), ["opset", "99"],
        "the default opset version 99 (from the future)", forbid=["unsupported op opset"])
    add("opset_missing_default", mut(B, no_default_opset), ["opset"],
        "opset_import without the default domain (onnx.checker refuses it; onnxruntime assumes one)",
        expect="refuse")
    add("opset_zero", mut(B, lambda m: opset(m, 0)), ["opset"], "the default opset version 0")

    # external data
    def external(location, offset=None, length=None):
        def f(m):
            t = init(m, "fc.weight")
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            del t.external_data[:]
            entries = [("location", location)]
            if offset is not None:
                entries.append(("offset", str(offset)))
            if length is not None:
                entries.append(("length", str(length)))
            for k, v in entries:
                e = t.external_data.add()
                e.key, e.value = k, v
            return m
        return f

    add("external_missing_file", mut(B, external("missing_weights.bin")),
        ["fc.weight", "missing_weights.bin"], "external data in a file that does not exist")
    add("external_outside_folder", mut(B, external("../README.md", 0, 1280)),
        ["fc.weight", "README.md"], "external data '../README.md' (outside the model's folder)")
    add("external_absolute_path", mut(B, external("/etc/hostname")),
        ["fc.weight", "/etc/hostname"], "external data at an absolute path")
    add("external_offset_past_end", mut(B, external("external_offset_past_end.bin", 1 << 20, 1280)),
        ["fc.weight", "offset"], "external data offset 1 MiB into a 1280-byte file",
        extra_files={"external_offset_past_end.bin": bytes(1280)})
    add("external_length_short", mut(B, external("external_length_short.bin", 0, 640)),
        ["fc.weight"], "external data length 640 bytes for 1280 bytes of dims",
        extra_files={"external_length_short.bin": bytes(1280)})

    # bytes
    good = B().SerializeToString()
    add("file_truncated", good[: len(good) * 3 // 5], ["file_truncated.onnx"],
        "the valid model's bytes cut at 60%")
    add("file_garbage", rng_for("garbage").integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        ["file_garbage.onnx"], "4 KiB of random bytes")
    add("file_empty", b"", ["file_empty.onnx"], "an empty file")
    add("file_deep_nesting", b"\x3a" + b"\x7f" + b"\x0a\x7d" * 40, ["file_deep_nesting.onnx"],
        "a few bytes of nested length-delimited fields that claim more than the file holds")

    # More ops, arities, types and folded constants (each refused by onnxruntime too)
    def small(name, nodes, inits, opset=17, x=(1, 3, 8, 8)):
        return make_model(name, nodes, inits, list(x), None, opset=opset)

    def n(op, ins, outs, name, **attrs):
        return helper.make_node(op, ins, outs, name=name, **attrs)

    r = rng_for("more")
    wt = f32("wt", r.standard_normal((3, 4, 3, 3)))
    w = f32("w", r.standard_normal((4, 3, 3, 3)))
    add("convT_output_padding", small("m", [n("ConvTranspose", ["x", "wt"], ["y"], "convt_op",
                                              strides=[2, 2], output_padding=[2, 2])], [wt]),
        ["convt_op", "output_padding"], "ConvTranspose output_padding [2,2] not below stride 2")
    add("convT_stride_huge", small("m", [n("ConvTranspose", ["x", "wt"], ["y"], "convt_big",
                                           strides=[1 << 40, 1 << 40])], [wt]),
        ["convt_big"], "ConvTranspose strides 2^40: an output past any memory")
    add("conv_dilation_huge", small("m", [n("Conv", ["x", "w"], ["y"], "conv_dil",
                                            dilations=[1 << 62, 1 << 62])], [w]),
        ["conv_dil"], "Conv dilations 2^62: the dilated window overflows")
    add("avgpool_kernel_huge", small("m", [n("AveragePool", ["x"], ["y"], "pool_big",
                                             kernel_shape=[1 << 62] * 2, pads=[1 << 62] * 4)], []),
        ["pool_big"], "AveragePool kernel and pads 2^62")
    add("flatten_axis_out_of_range", small("m", [n("Flatten", ["x"], ["y"], "flat_ax", axis=7)], []),
        ["flat_ax", "axis"], "Flatten axis 7 on a rank-4 value")
    add("gather_index_out_of_range",
        small("m", [n("Gather", ["x", "gi"], ["y"], "gather_g", axis=1)], [i64("gi", [5])]),
        ["gather_g", "index"], "Gather index 5 on an axis of 3")
    add("depth_to_space_zero", small("m", [n("DepthToSpace", ["x"], ["y"], "d2s", blocksize=0)], []),
        ["d2s", "blocksize"], "DepthToSpace blocksize 0")
    add("space_to_depth_huge",
        small("m", [n("SpaceToDepth", ["x"], ["y"], "s2d", blocksize=1 << 40)], []),
        ["s2d", "blocksize"], "SpaceToDepth blocksize 2^40")
    add("maxpool_kernel_zero",
        small("m", [n("MaxPool", ["x"], ["y"], "maxpool_m", kernel_shape=[0, 0])], []),
        ["maxpool_m", "kernel_shape"], "MaxPool kernel_shape [0,0] (a nonlinear op, still checked)")
    add("unsqueeze_axis_repeated",
        small("m", [n("Unsqueeze", ["x", "ua"], ["y"], "unsq")], [i64("ua", [1, 1])]),
        ["unsq", "axes"], "Unsqueeze axes [1,1]")
    add("reducemean_axis_out_of_range",
        small("m", [n("ReduceMean", ["x"], ["y"], "rmean", axes=[9])], [], opset=13),
        ["rmean", "axes"], "ReduceMean axes [9] on a rank-4 value")
    add("expand_not_broadcasting",
        small("m", [n("Expand", ["x", "es"], ["y"], "expand_e")], [i64("es", [1, 5, 8, 8])]),
        ["expand_e"], "Expand of (1,3,8,8) to (1,5,8,8)")
    add("constant_of_shape_huge",
        small("m", [n("ConstantOfShape", ["cs"], ["z"], "cos_big"), n("Add", ["x", "z"], ["y"], "add_z")],
              [i64("cs", [1 << 31, 1 << 31])]),
        ["cos_big"], "ConstantOfShape [2^31, 2^31]: a folded constant past the memory budget")
    add("constant_of_shape_negative",
        small("m", [n("ConstantOfShape", ["cs"], ["z"], "cos_neg"), n("Add", ["x", "z"], ["y"], "add_z")],
              [i64("cs", [-3, 8])]),
        ["cos_neg"], "ConstantOfShape with a negative dimension")
    add("range_huge",
        small("m", [n("Range", ["ra", "rb", "rd"], ["z"], "range_big"),
                    n("Cast", ["z"], ["zf"], "cast_z", to=TensorProto.FLOAT),
                    n("Add", ["x", "zf"], ["y"], "add_z")],
              [i64("ra", 0), i64("rb", 1 << 40), i64("rd", 1)]),
        ["range_big"], "Range 0..2^40: a folded constant past the memory budget")
    add("range_delta_zero",
        small("m", [n("Range", ["ra", "rb", "rd"], ["z"], "range_zero"),
                    n("Cast", ["z"], ["zf"], "cast_z", to=TensorProto.FLOAT),
                    n("Add", ["x", "zf"], ["y"], "add_z")],
              [i64("ra", 0), i64("rb", 8), i64("rd", 0)]),
        ["range_zero", "delta"], "Range with delta 0 (would never end)")
    add("tile_huge",
        small("m", [n("Tile", ["tc", "tr"], ["z"], "tile_big"), n("Add", ["x", "z"], ["y"], "add_z")],
              [f32("tc", np.ones(1)), i64("tr", [1 << 40])]),
        ["tile_big"], "Tile repeats 2^40 of a constant")
    add("resize_sizes_huge",
        small("m", [n("Resize", ["x", "", "", "rsz"], ["y"], "resize_big")],
              [i64("rsz", [1, 3, 1 << 30, 1 << 30])], opset=13),
        ["resize_big"], "Resize sizes 2^30 x 2^30")
    add("pad_huge_input",
        small("m", [n("Pad", ["x", "pp"], ["y"], "pad_big")], [i64("pp", [0, 0, 1 << 40, 0, 0, 0, 0, 0])]),
        ["pad_big"], "Pad of 2^40 rows")
    add("relu_two_inputs", small("m", [n("Relu", ["x", "x"], ["y"], "relu_r")], []),
        ["relu_r", "inputs"], "Relu listing two inputs")
    add("conv_four_inputs", small("m", [n("Conv", ["x", "w", "", ""], ["y"], "conv_4")], [w]),
        ["conv_4", "inputs"], "Conv listing four inputs")
    add("conv_float16_weight",
        small("m", [n("Conv", ["x", "w16"], ["y"], "conv_h")],
              [numpy_helper.from_array(r.standard_normal((4, 3, 3, 3)).astype(np.float16), "w16")]),
        ["conv_h", "FLOAT16"], "Conv with a float16 weight on a float input")
    then_g = helper.make_graph([n("FooBar", ["x"], ["t"], "foo_in_then")], "then", [],
                               [vi("t", None)])
    else_g = helper.make_graph([n("Identity", ["x"], ["e"], "id_else")], "else", [], [vi("e", None)])
    add("subgraph_unknown_op",
        small("m", [n("If", ["cond"], ["y"], "if_node", then_branch=then_g, else_branch=else_g)],
              [numpy_helper.from_array(np.array(True), "cond")]),
        ["if_node", "foo_in_then", "FooBar"], "an If whose then-branch holds an op 'FooBar'")
    m_dup = small("m", [n("Conv", ["x", "w"], ["y"], "conv_d")], [w])
    m_dup.graph.input.append(vi("x_in", [1, 3, 8, 8]))
    add("graph_input_twice", m_dup, ["x_in", "twice"], "the graph input 'x_in' listed twice")
    m_ctr = small("m", [n("Conv", ["x", "w"], ["y"], "conv_c")], [w])
    m_ctr.graph.input.append(vi("w", [4, 3, 5, 5]))
    add("initializer_input_dims_contradict", m_ctr, ["'w'", "4, 3, 5, 5"],
        "an initializer also listed as a graph input with other dims")
    add("op_newer_than_opset",
        small("m", [n("Gelu", ["x"], ["y"], "gelu_g")], [], opset=17),
        ["gelu_g", "Gelu", "20"], "Gelu (ai.onnx 20) in an opset-17 model")

    return cases


# --------------------------------------------------------------------------------------------------
# chain specs and safetensors


def st_bytes(tensors, dtype="F32", header_patch=None, cut=None, header_len=None, raw_header=None):
    """A safetensors file of `tensors` ({name: array}); the patches break it on purpose."""
    header, data, off = {}, b"", 0
    for name, a in tensors.items():
        b = np.asarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(a)), "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    if header_patch:
        header_patch(header)
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    out = struct.pack("<Q", header_len if header_len is not None else len(h)) + h + data
    return out[:cut] if cut is not None else out


def spec_tensors():
    r = rng_for("spec")
    return {"0.weight": weights(r, 3, 2, 3, 3), "0.bias": (r.standard_normal(3) * 0.1).astype(np.float32),
            "2.weight": weights(r, 5, 48), "2.bias": (r.standard_normal(5) * 0.1).astype(np.float32)}


def spec(layers=None, input_shape=(2, 6, 6)):
    if layers is None:
        layers = [{"type": "Conv2d", "name": "0", "stride": 1, "padding": 0},
                  {"type": "Flatten"}, {"type": "Linear", "name": "2"}]
    return {"input_shape": list(input_shape), "layers": layers}


def conv_with(**kv):
    layer = {"type": "Conv2d", "name": "0", "stride": 1, "padding": 0}
    layer.update(kv)
    return spec([layer, {"type": "Flatten"}, {"type": "Linear", "name": "2"}])


def spec_cases():
    """(name, spec JSON text, safetensors bytes, culprit, why, options)."""
    t = spec_tensors()
    good_st = st_bytes(t)
    good = json.dumps(spec())
    cases = []

    def add(name, spec_text, st, culprit, why, **opts):
        cases.append((name, spec_text, st, culprit, why, opts))

    add("spec_ok", good, good_st, [], "valid chain spec (Conv2d 2->3 k3, Flatten, Linear 48->5)",
        expect="accept")
    add("spec_groups_empty", json.dumps(conv_with(groups=[])), good_st, ["layer #0", "groups"],
        "Conv2d \"groups\": [] (the issue's panic)")
    add("spec_groups_zero", json.dumps(conv_with(groups=0)), good_st, ["layer #0", "groups"],
        "Conv2d groups 0")
    add("spec_stride_zero", json.dumps(conv_with(stride=0)), good_st, ["layer #0", "stride"],
        "Conv2d stride 0")
    add("spec_stride_negative", json.dumps(conv_with(stride=-1)), good_st, ["layer #0", "stride"],
        "Conv2d stride -1")
    add("spec_dilation_zero", json.dumps(conv_with(dilation=0)), good_st, ["layer #0", "dilation"],
        "Conv2d dilation 0")
    add("spec_padding_wrong_len", json.dumps(conv_with(padding=[1, 2, 3])), good_st,
        ["layer #0", "padding"], "Conv2d padding of 3 values")
    add("spec_padding_huge", json.dumps(conv_with(padding=1 << 40)), good_st, ["layer #0"],
        "Conv2d padding 2^40")
    add("spec_stride_huge",
        json.dumps(spec([{"type": "Conv2d", "name": "0", "stride": 1 << 62}, {"type": "Flatten"}])),
        good_st, [], "Conv2d stride 2^62 then Flatten: a valid 1x1 output (no overflow)", expect="accept")
    add("spec_missing_tensor", json.dumps(conv_with(name="9")), good_st, ["9.weight"],
        "Conv2d named '9': no tensor 9.weight")
    add("spec_wrong_tensor_shape",
        json.dumps(spec([{"type": "Conv2d", "name": "0"}, {"type": "Flatten"},
                         {"type": "Linear", "name": "0"}])),
        good_st, ["layer #2", "Linear"], "Linear reading the 4-D Conv weight 0.weight")
    add("spec_linear_in_mismatch", good,
        st_bytes({**t, "2.weight": weights(rng_for("lm"), 5, 47)}),
        ["layer #2", "Linear"], "Linear weight (5,47) after a 48-value Flatten")
    add("spec_not_json", "{\"input_shape\": [2, 6, 6], \"layers\": [", good_st, ["chain spec"],
        "chain spec that is not JSON (cut short)")
    add("spec_layers_not_array", json.dumps({"input_shape": [2, 6, 6], "layers": {"type": "Flatten"}}),
        good_st, ["layers"], "'layers' an object, not a list")
    add("spec_layers_empty", json.dumps({"input_shape": [2, 6, 6], "layers": []}), good_st,
        ["layers", "empty"], "a chain of no layers")
    add("spec_input_shape_empty", json.dumps({"input_shape": [], "layers": [{"type": "Flatten"}]}),
        good_st, ["input_shape"], "input_shape []")
    add("spec_unknown_type", json.dumps(spec([{"type": "Conv3d", "name": "0"}])), good_st,
        ["layer #0", "Conv3d"], "layer type 'Conv3d'")
    add("spec_input_shape_huge", json.dumps(spec(input_shape=(2, 100000, 100000))), good_st,
        ["layer"], "input_shape (2,100000,100000): a 9.6e11-entry collapsed matrix", expect="refuse")
    add("spec_input_shape_zero", json.dumps(spec(input_shape=(2, 0, 6))), good_st,
        ["input_shape|layer #0"], "input_shape (2,0,6): a zero-sized dimension")
    add("spec_input_shape_rank4", json.dumps(spec(input_shape=(1, 2, 6, 6))), good_st,
        ["input_shape|layer #0"], "input_shape of 4 dimensions")
    add("spec_kernel_larger_than_input", json.dumps(spec(input_shape=(2, 2, 2))), good_st,
        ["layer #0"], "Conv2d 3x3 kernel, no padding, on a 2x2 input")
    add("st_header_len_huge", good, st_bytes(t, header_len=(1 << 63) + 5), ["st_header_len_huge"],
        "safetensors header length 2^63+5")
    add("st_header_not_json", good, st_bytes(t, raw_header=b"{this is not json" + b"!" * 15),
        ["st_header_not_json"], "safetensors header that is not JSON")
    add("st_offsets_out_of_range", good,
        st_bytes(t, header_patch=lambda h: h["2.weight"].update(data_offsets=[96, 1 << 40])),
        ["st_offsets_out_of_range"], "safetensors data_offsets ending 1 TiB past the data")
    add("st_dtype_unknown", good, st_bytes(t, dtype="Q7"), ["st_dtype_unknown"],
        "safetensors dtype 'Q7'")
    add("st_dtype_int", good,
        st_bytes(t, header_patch=lambda h: h["2.bias"].update(dtype="I32")), ["2.bias"],
        "safetensors tensor 2.bias stored as I32")
    add("st_shape_huge", good,
        st_bytes(t, header_patch=lambda h: h["2.weight"].update(shape=[1 << 32, 1 << 32])),
        ["st_shape_huge"], "safetensors shape [2^32, 2^32] for 960 bytes")
    add("st_truncated", good, good_st[: len(good_st) - 100], ["st_truncated"],
        "safetensors file missing its last 100 bytes")
    add("st_empty", good, b"", ["st_empty"], "an empty safetensors file")
    add("st_nan", good, st_bytes({**t, "0.weight": np.where(np.arange(54).reshape(3, 2, 3, 3) == 7,
                                                           np.nan, t["0.weight"])}),
        ["layer #0", "Conv2d"], "a NaN in the Conv2d weight")
    return cases


def chain_forward(spec_obj, tensors, x):
    """The chain of `spec_obj` (Conv2d with int stride and padding, Flatten, Linear) on one sample, in
    float64, by loops: the oracle for accepted chain specs."""
    for layer in spec_obj["layers"]:
        if layer["type"] == "Flatten":
            x = x.reshape(-1)
        elif layer["type"] == "Linear":
            w = tensors[layer["name"] + ".weight"].astype(np.float64)
            x = w @ x + tensors[layer["name"] + ".bias"].astype(np.float64)
        elif layer["type"] == "Conv2d":
            w = tensors[layer["name"] + ".weight"].astype(np.float64)
            b = tensors[layer["name"] + ".bias"].astype(np.float64)
            s, p = layer.get("stride", 1), layer.get("padding", 0)
            c_out, _, kh, kw = w.shape
            xp = np.pad(x, ((0, 0), (p, p), (p, p)))
            ho, wo = (xp.shape[1] - kh) // s + 1, (xp.shape[2] - kw) // s + 1
            y = np.zeros((c_out, ho, wo))
            for i in range(ho):
                for j in range(wo):
                    patch = xp[:, i * s:i * s + kh, j * s:j * s + kw]
                    y[:, i, j] = np.tensordot(w, patch, axes=3) + b
            x = y
        else:
            raise ValueError(layer["type"])
    return x


def chain_linear(spec_obj, tensors):
    """The chain as one affine map (weight, bias), from its outputs on 0 and on the unit vectors."""
    shape = spec_obj["input_shape"]
    n = int(np.prod(shape))
    b = chain_forward(spec_obj, tensors, np.zeros(shape)).reshape(-1)
    cols = [chain_forward(spec_obj, tensors, np.eye(n)[i].reshape(shape)).reshape(-1) - b
            for i in range(n)]
    return np.stack(cols, axis=1), b


def checker_verdict(data):
    try:
        onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
        return "accepts"
    except Exception as e:  # noqa: BLE001 (any failure is the verdict)
        return "refuses: " + " ".join(str(e).split())[:300]


# --------------------------------------------------------------------------------------------------
# onnxruntime, in a child process


CHILD = r"""
import os, resource, sys
import numpy as np
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import onnxruntime as ort
path, x_path, y_path = sys.argv[1:4]
try:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 4
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
except Exception as e:
    print("refuses: " + " ".join(str(e).replace(path, os.path.basename(path)).split())[:300])
    sys.exit(0)
if x_path == "-":
    print("session only")
    sys.exit(0)
try:
    x = np.load(x_path)
    y = s.run(None, {{s.get_inputs()[0].name: x}})[0]
    np.save(y_path, y)
    print("accepts")
except Exception as e:
    print("refuses: " + " ".join(str(e).replace(path, os.path.basename(path)).split())[:300])
"""


def ort_verdict(path, x, tmp, not_run=""):
    """onnxruntime's verdict on the file `path` run on `x` (None: only build the session), and its
    outputs."""
    x_path, y_path = str(Path(tmp) / "x.npy"), str(Path(tmp) / "y.npy")
    if os.path.exists(y_path):
        os.remove(y_path)
    if x is not None:
        np.save(x_path, x)
    try:
        p = subprocess.run([sys.executable, "-c", CHILD.format(limit=MEM_LIMIT), str(path),
                            x_path if x is not None else "-", y_path],
                           capture_output=True, text=True, timeout=ORT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"not run: onnxruntime took over {ORT_TIMEOUT} s", None
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if p.returncode != 0 or not line:
        return f"refuses: crashed with status {p.returncode}", None
    if line == "accepts":
        return "accepts", np.load(y_path)
    if line == "session only":
        return f"not run: session created; {not_run}", None
    return line, None


def input_dims(model_bytes):
    try:
        m = onnx.load_from_string(model_bytes)
        d = [x.dim_value for x in m.graph.input[0].type.tensor_type.shape.dim]
        return d if d and all(v >= 0 for v in d) else None
    except Exception:
        return None


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        f.unlink()
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, culprit, why, opts in onnx_cases():
            data = model if isinstance(model, bytes) else model.SerializeToString()
            path = out / f"{name}.onnx"
            path.write_bytes(data)
            for extra, content in opts.get("extra_files", {}).items():
                (out / extra).write_bytes(content)
            dims = input_dims(data)
            x, not_run = None, ""
            if dims is None:
                not_run = "the input has a negative or unknown dim"
            elif not opts.get("run_ort", True):
                not_run = "the input is too large to save"
            else:
                x = rng_for(name + ".x").standard_normal(dims).astype(np.float32)
            ort, y = ort_verdict(path, x, tmp, not_run)
            expect = opts.get("expect") or ("accept" if ort == "accepts" else "refuse")
            compare = expect in ("accept", "either") and y is not None
            if compare:
                np.save(out / f"{name}.inputs.npy", x)
                np.save(out / f"{name}.outputs.npy", y)
            manifest.append({
                "name": name,
                "kind": "onnx",
                "args": ["collapse", f"{{dir}}/{name}.onnx", "-o", "{out}"],
                "inspect_args": ["inspect", f"{{dir}}/{name}.onnx"],
                "out_ext": "onnx",
                "expect": expect,
                "inspect_expect": opts.get("inspect_expect", expect),
                "culprit": culprit,
                "forbid": opts.get("forbid", []),
                "why": why,
                "ort": ort,
                "checker": checker_verdict(data),
                "compare": compare,
            })
            print(f"{name:40} {expect:7} ort: {ort[:100]}")
        for name, spec_text, st, culprit, why, opts in spec_cases():
            (out / f"{name}.json").write_text(spec_text)
            (out / f"{name}.safetensors").write_bytes(st)
            expect = opts.get("expect", "refuse")
            if expect == "accept":
                w, b = chain_linear(json.loads(spec_text), spec_tensors())
                np.save(out / f"{name}.weight.npy", w)
                np.save(out / f"{name}.bias.npy", b)
            manifest.append({
                "name": name,
                "kind": "spec",
                "args": ["collapse", "--weights", f"{{dir}}/{name}.safetensors", "--spec",
                         f"{{dir}}/{name}.json", "-o", "{out}"],
                "out_ext": "safetensors",
                "expect": expect,
                "inspect_expect": "any",
                "culprit": culprit,
                "forbid": opts.get("forbid", []),
                "why": why,
                "ort": "not applicable",
                "checker": "not applicable",
                "compare": expect == "accept",
            })
            print(f"{name:40} {expect:7}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"{len(manifest)} cases, {total / 1024:.0f} KiB in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/hostile")
