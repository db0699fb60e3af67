#!/usr/bin/env python3
"""Tiny ONNX models written node by node with `onnx.helper` (not exported from PyTorch, so that the op version
and the spelling of every attribute, attribute or input, are exactly as named), with inputs and onnxruntime's
outputs beside each model. They are the golden cases of the ONNX op mappers: each puts one op, or one spelling
of it, inside a linear run (mostly Conv -> OP -> Conv), and a Relu splits the run in a few.

    /work/venv/bin/python scripts/make_op_fixtures.py tests/data/ops     # needs onnx, onnxruntime, numpy (pip)

For case NAME it writes NAME.onnx, NAME.inputs.npy (float32, standard normal, batch 2 unless the case says 1,
seeded by the name), NAME.outputs.npy (onnxruntime's first output; NAME.outputs1.npy for the second, ...) and
one cases.json: opset, IR version, what the case exercises, its ops, and `linear_nodes`, the number of nodes
the tool should absorb (see `count_linear`). Weights are standard normal * 0.3, seeded by the name too. Every
model passes `onnx.checker.check_model(full_check=True)` (nodes_unsorted: its sorted twin does) and runs in
onnxruntime with graph optimizations off; the summary also shows how far onnx's own reference evaluator
(onnx.reference) lands from onnxruntime, as a second opinion that is not stored.

The cases, by family (each case's one-line description is in its `@case`, and in cases.json):
- pooling and reductions: gap_flatten_gemm, reduce_mean_attr, reduce_mean_input, reduce_sum_channels,
  reduce_mean_last_center, avgpool_auto_pad, avgpool_dilations;
- elementwise affine pieces and broadcasting: bn_by_hand_unsqueeze, mul_add_div_sub_neg,
  layer_scale_channels_last, fastvit_mixer, sum_nary, expand_broadcast, batchnorm_9, batchnorm_15;
- matrix products: matmul_nd, gemm_alpha_beta, transpose_rank4, gather_token;
- split, slice, concat: split_attr, split_input, split_num_outputs, slice_attr, slice_steps, concat_axes;
- resizing: resize_nearest_scales, resize_linear_half_pixel, resize_linear_pytorch,
  resize_linear_align_corners, resize_nearest_round, upsample_9;
- layout: depth_to_space_dcr, depth_to_space_crd, space_to_depth, channel_shuffle;
- padding and conv geometry: pad_attr, pad_input_axes, pad_edge, conv_auto_pad, convtranspose;
- how the graph is written: weights_constant_of_shape (IR 3, initializers listed as inputs), constant_nodes,
  two_outputs, nodes_unsorted.
"""
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

INT64_MAX = 2**63 - 1
NONLINEAR = {"Relu"}  # nodes on the data path that split a run
SHAPE_OPS = {"Shape", "Size"}  # their output depends on the input's shape only, not on its values


@dataclass
class Case:
    name: str
    opset: int
    shape: tuple  # one sample's input shape
    exercises: str
    build: Callable
    batch: int = 2
    ir3: bool = False  # IR version 3, initializers also listed as graph inputs
    reverse: bool = False  # nodes written in reverse order


CASES = []


def case(opset, shape, exercises, **kw):
    """Registers the decorated `build(b, x) -> [output names]` as the case named after it."""
    def register(build):
        CASES.append(Case(build.__name__, opset, shape, exercises, build, **kw))
        return build
    return register


class Builder:
    """Collects one graph's nodes and initializers; each method adds what it names and returns the output."""

    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.count = rng, [], [], 0

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def init(self, array, prefix="c"):
        name = self.fresh(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, *shape, prefix="w"):
        return self.init((self.rng.standard_normal(shape) * 0.3).astype(np.float32), prefix)

    def uniform(self, lo, hi, *shape):
        return self.init(self.rng.uniform(lo, hi, shape).astype(np.float32))

    def ints(self, *values):
        return self.init(np.array(values, dtype=np.int64), "i")

    def floats(self, *values):
        return self.init(np.array(values, dtype=np.float32), "f")

    def scalar(self, value):
        return self.init(np.array(value, dtype=np.float32), "s")

    def op(self, op_type, *inputs, outputs=1, **attrs):
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=names[0], **attrs))
        return names[0] if outputs == 1 else names

    def conv(self, x, c_in, c_out, k=3, pad=0, group=1, **attrs):
        if "auto_pad" not in attrs:
            attrs["pads"] = [pad] * 4
        w, bias = self.weight(c_out, c_in // group, k, k), self.weight(c_out, prefix="b")
        return self.op("Conv", x, w, bias, kernel_shape=[k, k], group=group if group > 1 else None, **attrs)

    def bn(self, x, c, **attrs):
        scale, shift = self.uniform(0.5, 1.5, c), self.weight(c, prefix="b")
        mean, var = self.weight(c, prefix="mean"), self.uniform(0.5, 2.0, c)
        return self.op("BatchNormalization", x, scale, shift, mean, var, **attrs)

    def gemm(self, x, n_in, n_out, transB=1, **attrs):
        w = self.weight(n_out, n_in) if transB else self.weight(n_in, n_out)
        return self.op("Gemm", x, w, self.weight(n_out, prefix="b"), transB=transB, **attrs)

    def matmul(self, x, n_in, n_out):
        return self.op("MatMul", x, self.weight(n_in, n_out))


# Pooling and reductions.

@case(9, (3, 8, 8), "GlobalAveragePool -> Flatten -> Gemm(transB=1): the legacy classifier head")
def gap_flatten_gemm(b, x):
    y = b.op("Flatten", b.op("GlobalAveragePool", b.conv(x, 3, 6, pad=1)))
    return [b.gemm(y, 6, 4)]


@case(13, (3, 8, 8), "ReduceMean with axes=[2,3] as an attribute (opset 13), keepdims=1, into a 1x1 Conv")
def reduce_mean_attr(b, x):
    y = b.op("ReduceMean", b.conv(x, 3, 6), axes=[2, 3], keepdims=1)
    return [b.conv(y, 6, 4, k=1)]


@case(18, (3, 8, 8), "ReduceMean with axes as a constant input [-1,-2] (opset 18), keepdims=0, into a Gemm")
def reduce_mean_input(b, x):
    y = b.op("ReduceMean", b.conv(x, 3, 6), b.ints(-1, -2), keepdims=0)
    return [b.gemm(y, 6, 4)]


@case(13, (3, 8, 8), "ReduceSum over channels (axes input [1], keepdims=1) between Convs")
def reduce_sum_channels(b, x):
    y = b.op("ReduceSum", b.conv(x, 3, 6, pad=1), b.ints(1), keepdims=1)
    return [b.conv(y, 1, 4)]


@case(13, (5, 8), "x - ReduceMean(x, axes=[-1]): the centring half of a LayerNorm, between MatMuls")
def reduce_mean_last_center(b, x):
    y = b.matmul(x, 8, 8)
    y = b.op("Sub", y, b.op("ReduceMean", y, axes=[-1], keepdims=1))
    return [b.matmul(y, 8, 6)]


@case(13, (3, 10, 10), "AveragePool(auto_pad SAME_UPPER, kernel 3, stride 2, count_include_pad 1): pad 0/1")
def avgpool_auto_pad(b, x):
    y = b.op("AveragePool", b.conv(x, 3, 4, pad=1), auto_pad="SAME_UPPER", kernel_shape=[3, 3],
             strides=[2, 2], count_include_pad=1)
    return [b.conv(y, 4, 3)]


@case(19, (3, 8, 8), "AveragePool(kernel 2, dilations [2,2], pads 0): dilated pooling (opset 19)")
def avgpool_dilations(b, x):
    y = b.op("AveragePool", b.conv(x, 3, 4, pad=1), kernel_shape=[2, 2], dilations=[2, 2], pads=[0] * 4)
    return [b.conv(y, 4, 3)]


# Elementwise affine pieces and broadcasting.

@case(9, (3, 6, 6), "BatchNorm by hand as in Caffe2 zoo files: Mul/Add by Unsqueeze(axes=[1,2]) of [C] "
      "initializers, then Relu")
def bn_by_hand_unsqueeze(b, x):
    y = b.conv(x, 3, 6, pad=1)
    y = b.op("Mul", y, b.op("Unsqueeze", b.weight(6), axes=[1, 2]))
    y = b.op("Add", y, b.op("Unsqueeze", b.weight(6), axes=[1, 2]))
    return [b.conv(b.op("Relu", y), 6, 4)]


@case(13, (3, 8, 8), "Mul (1,C,1,1), Add with the constant first (C,1,1), Div by a scalar, Sub (1,1,1,W), "
      "Neg, scalar - x")
def mul_add_div_sub_neg(b, x):
    y = b.op("Mul", b.conv(x, 3, 4, pad=1), b.weight(1, 4, 1, 1))
    y = b.op("Div", b.op("Add", b.weight(4, 1, 1), y), b.scalar(2.5))
    y = b.op("Neg", b.op("Sub", y, b.weight(1, 1, 1, 8)))
    return [b.conv(b.op("Sub", b.scalar(0.5), y), 4, 3)]


@case(13, (6, 6, 8), "channels-last MatMul + bias + layer scale (8,), then Transpose [0,3,1,2] into a Conv")
def layer_scale_channels_last(b, x):
    y = b.op("Mul", b.op("Add", b.matmul(x, 8, 8), b.weight(8)), b.weight(8))
    return [b.conv(b.op("Transpose", y, perm=[0, 3, 1, 2]), 8, 4)]


@case(13, (4, 8, 8), "FastViT RepMixer: x + s*(BN(depthwise Conv3x3(x)) - BN(x)), s (C,1,1), then Conv 1x1")
def fastvit_mixer(b, x):
    x = b.conv(x, 4, 6, pad=1)
    mixer = b.bn(b.conv(x, 6, 6, pad=1, group=6), 6)
    y = b.op("Mul", b.weight(6, 1, 1), b.op("Sub", mixer, b.bn(x, 6)))
    return [b.conv(b.op("Add", x, y), 6, 4, k=1)]


@case(9, (4, 8, 8), "Sum of three branches (Conv 3x3 pad 1, Conv 1x1, the input itself), then Conv")
def sum_nary(b, x):
    y = b.op("Sum", b.conv(x, 4, 4, pad=1), b.conv(x, 4, 4, k=1), x)
    return [b.conv(y, 4, 3)]


@case(13, (2, 6, 6), "Add of a (1,4,1,1) constant to a 1-channel tensor: the output broadcasts to 4 channels")
def expand_broadcast(b, x):
    y = b.op("Add", b.conv(x, 2, 1, pad=1), b.weight(1, 4, 1, 1))
    return [b.conv(y, 4, 3)]


@case(9, (3, 6, 6), "BatchNormalization at opset 9 (no spatial attribute) between Convs")
def batchnorm_9(b, x):
    return [b.conv(b.bn(b.conv(x, 3, 4, pad=1), 4, epsilon=1e-3), 4, 3)]


@case(15, (3, 6, 6), "BatchNormalization at opset 15 with training_mode=0 written out, between Convs")
def batchnorm_15(b, x):
    return [b.conv(b.bn(b.conv(x, 3, 4, pad=1), 4, training_mode=0), 4, 3)]


# Matrix products.

@case(13, (4, 6), "MatMul of a rank-3 input by (6,5), Add (5,), MatMul by (5,3)")
def matmul_nd(b, x):
    return [b.matmul(b.op("Add", b.matmul(x, 6, 5), b.weight(5)), 5, 3)]


@case(11, (2, 3, 3), "Gemm(transB=0, alpha=0.5, beta=2.0, C (1,out)) after Flatten, then a plain Gemm")
def gemm_alpha_beta(b, x):
    y = b.op("Flatten", b.conv(x, 2, 4, pad=1))
    y = b.op("Gemm", y, b.weight(36, 8), b.weight(1, 8), transB=0, alpha=0.5, beta=2.0)
    return [b.gemm(y, 8, 4)]


@case(13, (3, 4, 5), "Transpose(perm [0,2,3,1]) of a rank-4 tensor between MatMuls on the last axis")
def transpose_rank4(b, x):
    y = b.op("Transpose", b.matmul(x, 5, 5), perm=[0, 2, 3, 1])
    return [b.matmul(y, 3, 2)]


@case(13, (5, 8), "Gather(indices scalar 0, axis 1): the first token, as ViT takes its class token")
def gather_token(b, x):
    y = b.op("Gather", b.matmul(x, 8, 8), b.init(np.array(0, dtype=np.int64), "i"), axis=1)
    return [b.gemm(y, 8, 4)]


# Split, slice, concat.

def split_branches(b, x, split, first=3):
    """Conv (8 ch) -> `split(y)` into `first` and 8 - `first` channels -> a Conv on each -> Concat(axis=1)."""
    p, q = split(b.conv(x, 3, 8, pad=1))
    return [b.op("Concat", b.conv(p, first, 2, pad=1), b.conv(q, 8 - first, 4, k=1), axis=1)]


@case(11, (3, 8, 8), "Split(axis=1, split=[3,5] as an attribute) -> Conv per piece -> Concat(axis=1)")
def split_attr(b, x):
    return split_branches(b, x, lambda y: b.op("Split", y, axis=1, split=[3, 5], outputs=2))


@case(13, (3, 8, 8), "Split with split=[3,5] as an input (opset 13) -> Conv per piece -> Concat")
def split_input(b, x):
    return split_branches(b, x, lambda y: b.op("Split", y, b.ints(3, 5), axis=1, outputs=2))


@case(18, (3, 8, 8), "Split(num_outputs=2) of 8 channels into 4 + 4 (opset 18) -> Conv per piece -> Concat")
def split_num_outputs(b, x):
    return split_branches(b, x, lambda y: b.op("Split", y, axis=1, num_outputs=2, outputs=2), first=4)


@case(9, (3, 10, 10), "Slice with starts/ends/axes attributes (opset 9) cropping H [1:-1] and W [2:1000]")
def slice_attr(b, x):
    y = b.op("Slice", b.conv(x, 3, 4, pad=1), starts=[1, 2], ends=[-1, 1000], axes=[2, 3])
    return [b.conv(y, 4, 3)]


@case(13, (3, 10, 10), "Slice with inputs: step -1 reverses H (start -1, end -INT64_MAX), step 2 on W")
def slice_steps(b, x):
    steps = [b.ints(-1, 0), b.ints(-INT64_MAX, INT64_MAX), b.ints(2, 3), b.ints(-1, 2)]
    return [b.conv(b.op("Slice", b.conv(x, 3, 4, pad=1), *steps), 4, 3)]


@case(13, (3, 6, 6), "two Conv branches concatenated along H (axis 2) and along W (axis -1): two outputs")
def concat_axes(b, x):
    p, q = b.conv(x, 3, 4, pad=1), b.conv(x, 3, 4, k=1)
    return [b.conv(b.op("Concat", p, q, axis=2), 4, 3), b.conv(b.op("Concat", p, q, axis=-1), 4, 3)]


# Resizing.

def resize_between_convs(b, x, c_in, **resize):
    """Conv -> Resize(X, roi "", scales or sizes from the keyword `scales`/`sizes`) -> Conv."""
    scales = b.floats(*resize.pop("scales")) if "scales" in resize else ""
    sizes = b.ints(*resize.pop("sizes")) if "sizes" in resize else ""
    y = b.op("Resize", *[b.conv(x, c_in, 4, pad=1), "", scales, sizes][: 4 if sizes else 3], **resize)
    return [b.conv(y, 4, 3)]


@case(13, (3, 5, 5), "Resize nearest, asymmetric, floor, scales [1,1,2,2]: PyTorch's nearest")
def resize_nearest_scales(b, x):
    return resize_between_convs(b, x, 3, scales=[1, 1, 2, 2], mode="nearest",
                                coordinate_transformation_mode="asymmetric", nearest_mode="floor")


@case(13, (3, 5, 5), "Resize linear, half_pixel, scales [1,1,2,2]: bilinear, align_corners=False")
def resize_linear_half_pixel(b, x):
    return resize_between_convs(b, x, 3, scales=[1, 1, 2, 2], mode="linear",
                                coordinate_transformation_mode="half_pixel")


@case(13, (3, 4, 3), "Resize linear, pytorch_half_pixel, sizes [1,4,7,5] from 4x3 (non-integer ratios)",
      batch=1)
def resize_linear_pytorch(b, x):
    return resize_between_convs(b, x, 3, sizes=[1, 4, 7, 5], mode="linear",
                                coordinate_transformation_mode="pytorch_half_pixel")


@case(13, (3, 6, 5), "Resize linear, align_corners, scales [1,1,1.5,2]")
def resize_linear_align_corners(b, x):
    return resize_between_convs(b, x, 3, scales=[1, 1, 1.5, 2], mode="linear",
                                coordinate_transformation_mode="align_corners")


@case(11, (3, 8, 8), "Resize (opset 11, empty roi tensor) nearest, half_pixel, round_prefer_ceil, "
      "scales [1,1,0.5,0.5]: downsampling")
def resize_nearest_round(b, x):
    roi = b.init(np.zeros(0, dtype=np.float32), "roi")
    y = b.op("Resize", b.conv(x, 3, 4, pad=1), roi, b.floats(1, 1, 0.5, 0.5), mode="nearest",
             coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    return [b.conv(y, 4, 3, pad=1)]


@case(9, (3, 4, 4), "Upsample (opset 9) nearest with scales as an input [1,1,2,3]")
def upsample_9(b, x):
    y = b.op("Upsample", b.conv(x, 3, 4, pad=1), b.floats(1, 1, 2, 3), mode="nearest")
    return [b.conv(y, 4, 3)]


# Layout.

@case(13, (3, 6, 6), "DepthToSpace(blocksize 2, mode DCR) between Convs")
def depth_to_space_dcr(b, x):
    return [b.conv(b.op("DepthToSpace", b.conv(x, 3, 8, pad=1), blocksize=2, mode="DCR"), 2, 3)]


@case(13, (3, 6, 6), "DepthToSpace(blocksize 2, mode CRD: PixelShuffle) between Convs")
def depth_to_space_crd(b, x):
    return [b.conv(b.op("DepthToSpace", b.conv(x, 3, 8, pad=1), blocksize=2, mode="CRD"), 2, 3)]


@case(13, (3, 6, 6), "SpaceToDepth(blocksize 2) between Convs")
def space_to_depth(b, x):
    return [b.conv(b.op("SpaceToDepth", b.conv(x, 3, 2, pad=1), blocksize=2), 8, 3, pad=1)]


@case(13, (3, 6, 6), "ShuffleNet channel shuffle: Reshape [0,2,4,6,6] -> Transpose (0,2,1,3,4) -> "
      "Reshape [-1,8,6,6]")
def channel_shuffle(b, x):
    y = b.op("Reshape", b.conv(x, 3, 8, pad=1), b.ints(0, 2, 4, 6, 6))
    y = b.op("Reshape", b.op("Transpose", y, perm=[0, 2, 1, 3, 4]), b.ints(-1, 8, 6, 6))
    return [b.conv(y, 8, 3)]


# Padding and conv geometry.

@case(9, (3, 6, 6), "Pad (opset 9) with a pads attribute [0,0,1,2,0,0,2,1], constant value 0.5 (affine)")
def pad_attr(b, x):
    y = b.op("Pad", b.conv(x, 3, 4, pad=1), pads=[0, 0, 1, 2, 0, 0, 2, 1], value=0.5, mode="constant")
    return [b.conv(y, 4, 3)]


@case(18, (3, 6, 6), "Pad (opset 18) reflect with pads [1,2,2,1] and axes [2,3] as inputs")
def pad_input_axes(b, x):
    y = b.op("Pad", b.conv(x, 3, 4, pad=1), b.ints(1, 2, 2, 1), "", b.ints(2, 3), mode="reflect")
    return [b.conv(y, 4, 3)]


@case(13, (3, 6, 6), "Pad (opset 13) edge with pads [0,0,2,1,0,0,1,2] as an input")
def pad_edge(b, x):
    y = b.op("Pad", b.conv(x, 3, 4, pad=1), b.ints(0, 0, 2, 1, 0, 0, 1, 2), mode="edge")
    return [b.conv(y, 4, 3)]


@case(13, (3, 10, 10), "Conv auto_pad SAME_UPPER stride 2 kernel 3 (pads 0/1), SAME_LOWER kernel 4 (2/1), VALID")
def conv_auto_pad(b, x):
    y = b.conv(x, 3, 4, auto_pad="SAME_UPPER", strides=[2, 2])
    y = b.conv(y, 4, 4, k=4, auto_pad="SAME_LOWER")
    return [b.conv(y, 4, 3, auto_pad="VALID")]


@case(13, (3, 5, 5), "ConvTranspose(kernel 3, stride 2, pads 1, output_padding 1): 5x5 -> 10x10")
def convtranspose(b, x):
    y = b.op("ConvTranspose", b.conv(x, 3, 4, pad=1), b.weight(4, 3, 3, 3), b.weight(3, prefix="b"),
             kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4, output_padding=[1, 1])
    return [b.conv(y, 3, 2)]


# How the graph is written.

@case(9, (3, 6, 6), "Conv weight from ConstantOfShape(int64 initializer, fill 0.01), Relu, Conv, Flatten, Gemm; "
      "IR 3 with initializers as inputs", ir3=True)
def weights_constant_of_shape(b, x):
    fill = numpy_helper.from_array(np.array([0.01], dtype=np.float32))
    w = b.op("ConstantOfShape", b.ints(4, 3, 3, 3), value=fill)
    y = b.op("Relu", b.op("Conv", x, w, b.weight(4, prefix="b"), kernel_shape=[3, 3], pads=[1] * 4))
    return [b.gemm(b.op("Flatten", b.conv(y, 4, 4, pad=1)), 144, 4)]


def constant(b, array):
    """A Constant node holding `array` (the `value` attribute)."""
    return b.op("Constant", value=numpy_helper.from_array(np.asarray(array)))


@case(13, (3, 6, 6), "weights from Constant nodes (value, value_floats) and a flatten by a computed shape: "
      "Shape -> Gather -> Unsqueeze -> Concat [-1] -> Reshape")
def constant_nodes(b, x):
    w = constant(b, (b.rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32))
    bias = b.op("Constant", value_floats=[float(v) for v in b.rng.standard_normal(4) * 0.3])
    y = b.op("Conv", x, w, bias, kernel_shape=[3, 3])
    n = b.op("Gather", b.op("Shape", y), constant(b, np.array(0, dtype=np.int64)), axis=0)
    shape = b.op("Concat", b.op("Unsqueeze", n, b.ints(0)), b.ints(-1), axis=0)
    gw = constant(b, (b.rng.standard_normal((5, 64)) * 0.3).astype(np.float32))
    return [b.op("Gemm", b.op("Reshape", y, shape), gw, constant(b, np.zeros(5, np.float32) + 0.1), transB=1)]


@case(13, (3, 6, 6), "two graph outputs from one Conv: Conv -> Conv, and Conv -> Relu -> Conv")
def two_outputs(b, x):
    y = b.conv(x, 3, 4, pad=1)
    return [b.conv(y, 4, 3), b.conv(b.op("Relu", y), 4, 3)]


@case(13, (3, 6, 6), "Conv -> Conv -> Flatten -> Gemm with the node list in reverse order (not topological)",
      reverse=True)
def nodes_unsorted(b, x):
    y = b.op("Flatten", b.conv(b.conv(x, 3, 4, pad=1), 4, 4))
    return [b.gemm(y, 64, 5)]


# Making, running and writing the cases.

def count_linear(graph):
    """Nodes on the data path (fed, through any chain, by the graph's first input, cut at Shape) that are not
    in NONLINEAR: the nodes the tool should absorb. Constant subgraphs (Unsqueeze of an initializer,
    ConstantOfShape, Shape -> Gather -> Concat) are not counted. `graph.node` must be in topological order."""
    data, count = {graph.input[0].name}, 0
    for node in graph.node:
        if node.op_type not in SHAPE_OPS and any(i in data for i in node.input):
            data.update(node.output)
            count += node.op_type not in NONLINEAR
    return count


def seed(c, stream):
    """A seed per case and stream (0: weights, 1: inputs), so adding a case changes no other."""
    return [zlib.crc32(c.name.encode()), stream]


def build_model(c):
    """The case's model (nodes in topological order, outputs not yet typed) and its input's shape."""
    b = Builder(np.random.default_rng(seed(c, 0)))
    dims = ["N" if c.batch != 1 else 1, *c.shape]
    outputs = c.build(b, "input")
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)]
    if c.ir3:
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, t.dims) for t in b.inits]
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    graph = helper.make_graph(b.nodes, c.name, inputs, outs, b.inits)
    opsets = [helper.make_opsetid("", c.opset)]
    model = helper.make_model_gen_version(graph, opset_imports=opsets, producer_name="make_op_fixtures.py")
    model.ir_version = 3 if c.ir3 else 8 if c.opset >= 13 else model.ir_version
    model.doc_string = c.exercises
    return model, (c.batch, *c.shape)


def run_ort(model, x):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})


def reference_gap(model, x, ys):
    """Largest |onnx.reference - onnxruntime| over the outputs, or the reference evaluator's error."""
    try:
        refs = ReferenceEvaluator(model).run(None, {"input": x})
    except Exception as e:  # noqa: BLE001 (a second opinion only)
        return f"error: {type(e).__name__}: {str(e).splitlines()[0][:60]}"
    return max(float(np.abs(np.asarray(r, np.float32) - y).max()) for r, y in zip(refs, ys))


def declare_outputs(model, ys, batch):
    """Writes the output shapes onnxruntime produced into the graph (the batch axis stays symbolic)."""
    for out, y in zip(model.graph.output, ys):
        dims = ["N" if batch != 1 else 1, *y.shape[1:]]
        out.type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, dims))


def make_case(c, out):
    """Writes the case's files; returns its cases.json entry and the onnx.reference gap."""
    model, shape = build_model(c)
    x = np.random.default_rng(seed(c, 1)).standard_normal(shape).astype(np.float32)
    ys = run_ort(model, x)
    declare_outputs(model, ys, c.batch)
    onnx.checker.check_model(model, full_check=True)
    entry = {"name": c.name, "opset": c.opset, "ir_version": model.ir_version, "exercises": c.exercises,
             "ops": list(dict.fromkeys(n.op_type for n in model.graph.node)), "nodes": len(model.graph.node),
             "linear_nodes": count_linear(model.graph), "input_shape": list(shape),
             "output_shapes": [list(y.shape) for y in ys]}
    gap = reference_gap(model, x, ys)
    if c.reverse:
        model.graph.node.reverse()
        assert all(np.array_equal(a, b) for a, b in zip(ys, run_ort(model, x))), c.name
    onnx.save(model, out / f"{c.name}.onnx")
    np.save(out / f"{c.name}.inputs.npy", x)
    for i, y in enumerate(ys):
        np.save(out / f"{c.name}.outputs{i or ''}.npy", y)
    return entry, gap


def write_manifest(path, versions, cases):
    """cases.json: the versions that made the data, then one case per line."""
    head = json.dumps(versions)[1:-1]
    body = ",\n  ".join(json.dumps(c) for c in cases)
    path.write_text(f"{{{head},\n \"cases\": [\n  {body}\n ]\n}}\n")


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    cases, rows = [], []
    for c in CASES:
        entry, gap = make_case(c, out)
        cases.append(entry)
        size = (out / f"{c.name}.onnx").stat().st_size
        rows.append((c.name, c.opset, entry["ir_version"], entry["nodes"], entry["linear_nodes"], size, gap))
    versions = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__}
    write_manifest(out / "cases.json", versions, cases)
    print(f"{'case':28} {'opset':>5} {'ir':>3} {'nodes':>5} {'linear':>6} {'bytes':>6}  onnx.reference gap")
    for name, opset, ir, nodes, linear, size, gap in rows:
        gap = f"{gap:.1e}" if isinstance(gap, float) else gap
        print(f"{name:28} {opset:5} {ir:3} {nodes:5} {linear:6} {size:6}  {gap}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/ops"))
