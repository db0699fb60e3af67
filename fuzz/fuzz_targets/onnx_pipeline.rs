//! Structure-aware fuzzing of the whole ONNX pipeline: a valid fixture model (embedded below) is decoded
//! into the ONNX protobuf types, then the fuzz input drives a sequence of mutations of its fields
//! (attributes, initializer dims and data, node inputs and outputs, op types, node order, opsets, graph
//! input and output shapes, data types). The mutated model is encoded and goes through
//! `OnnxModel::decode` (validation), `pipeline::inspect_onnx` (import, shape inference, planning) and
//! `pipeline::collapse_onnx` (build, check, rewrite) under a 64 MiB memory budget, with the method,
//! policy and accumulation drawn from the input. Every stage must return `Ok` or `Err`, never panic; a
//! collapsed model must encode to bytes that decode again (and inspect without panicking).
//!
//! The protobuf types are the crate's own generated `src/io/onnx/proto.rs`, compiled into this target
//! with `#[path]`, because `linear_collapse::io::onnx::proto` is `pub(crate)`.
//!
//! From the repository root (the input is opaque bytes: no seed corpus is needed, an empty input runs
//! the first fixture unmutated):
//!
//! ```text
//! cargo +nightly fuzz build onnx_pipeline
//! cargo +nightly fuzz run onnx_pipeline -- -max_total_time=180 -rss_limit_mb=2048 -timeout=20
//! ```
//!
//! To see what a reproducer runs: `FUZZ_DUMP=/tmp/m.onnx cargo +nightly fuzz run onnx_pipeline ARTIFACT`
//! names the fixture and the options on stderr and writes the mutated model to `/tmp/m.onnx`.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::{pipeline, Accumulate, Method, Options, Par, Policy};
use prost::Message;

#[path = "../../src/io/onnx/proto.rs"]
#[allow(dead_code, missing_docs, clippy::all, clippy::pedantic)]
mod proto;

use proto::tensor_shape_proto::{dimension::Value as DimValue, Dimension};
use proto::type_proto::Value as TypeValue;
use proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

macro_rules! fixture {
    ($p:literal) => {
        (
            $p,
            include_bytes!(concat!("../../tests/data/", $p)) as &[u8],
        )
    };
}

/// Small valid models: every one-op fixture, the extra and legacy-import ones, and the per-model
/// fixtures (not `seed_conv_fc`, whose 500 KiB of weights would slow every run).
static FIXTURES: &[(&str, &[u8])] = &[
    fixture!("ops/avgpool_auto_pad.onnx"),
    fixture!("ops/avgpool_dilations.onnx"),
    fixture!("ops/batchnorm_15.onnx"),
    fixture!("ops/batchnorm_9.onnx"),
    fixture!("ops/bn_by_hand_unsqueeze.onnx"),
    fixture!("ops/channel_shuffle.onnx"),
    fixture!("ops/concat_axes.onnx"),
    fixture!("ops/constant_nodes.onnx"),
    fixture!("ops/conv_auto_pad.onnx"),
    fixture!("ops/convtranspose.onnx"),
    fixture!("ops/depth_to_space_crd.onnx"),
    fixture!("ops/depth_to_space_dcr.onnx"),
    fixture!("ops/expand_broadcast.onnx"),
    fixture!("ops/fastvit_mixer.onnx"),
    fixture!("ops/gap_flatten_gemm.onnx"),
    fixture!("ops/gather_token.onnx"),
    fixture!("ops/gemm_alpha_beta.onnx"),
    fixture!("ops/layer_scale_channels_last.onnx"),
    fixture!("ops/matmul_nd.onnx"),
    fixture!("ops/mul_add_div_sub_neg.onnx"),
    fixture!("ops/nodes_unsorted.onnx"),
    fixture!("ops/pad_attr.onnx"),
    fixture!("ops/pad_edge.onnx"),
    fixture!("ops/pad_input_axes.onnx"),
    fixture!("ops/reduce_mean_attr.onnx"),
    fixture!("ops/reduce_mean_input.onnx"),
    fixture!("ops/reduce_mean_last_center.onnx"),
    fixture!("ops/reduce_sum_channels.onnx"),
    fixture!("ops/resize_linear_align_corners.onnx"),
    fixture!("ops/resize_linear_half_pixel.onnx"),
    fixture!("ops/resize_linear_pytorch.onnx"),
    fixture!("ops/resize_nearest_round.onnx"),
    fixture!("ops/resize_nearest_scales.onnx"),
    fixture!("ops/slice_attr.onnx"),
    fixture!("ops/slice_steps.onnx"),
    fixture!("ops/space_to_depth.onnx"),
    fixture!("ops/split_attr.onnx"),
    fixture!("ops/split_input.onnx"),
    fixture!("ops/split_num_outputs.onnx"),
    fixture!("ops/sum_nary.onnx"),
    fixture!("ops/transpose_rank4.onnx"),
    fixture!("ops/two_outputs.onnx"),
    fixture!("ops/upsample_9.onnx"),
    fixture!("ops/weights_constant_of_shape.onnx"),
    fixture!("extra/conv_erf_conv_fc.onnx"),
    fixture!("extra/matmul_add_bias.onnx"),
    fixture!("extra/matmul_add_column.onnx"),
    fixture!("extra/shape_of_internal.onnx"),
    fixture!("extra/shared_bias.onnx"),
    fixture!("import/conv_pool_conv.legacy.onnx"),
    fixture!("import/gap_head.legacy.onnx"),
    fixture!("import/mean_head.legacy.onnx"),
    fixture!("import/squeeze_excite.legacy.onnx"),
    fixture!("conv1d_fc/model.onnx"),
    fixture!("conv_avgpool_fc/model.onnx"),
    fixture!("conv_bn_fc/model.onnx"),
    fixture!("conv_conv_fc/model.onnx"),
    fixture!("conv_groups2_nobias_fc/model.onnx"),
    fixture!("conv_relu_conv_fc/model.onnx"),
    fixture!("conv_s3_p2_fc/model.onnx"),
    fixture!("gemm_gemm/model.onnx"),
    fixture!("matmul_add_chain/model.onnx"),
    fixture!("pad_conv_fc/model.onnx"),
    fixture!("residual_convconv_fc/model.onnx"),
];

/// Integers that break arithmetic: zero, signs, powers of two around `u32`/`i32`, the extremes.
const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    -2,
    3,
    4,
    7,
    8,
    16,
    255,
    256,
    1 << 16,
    (1 << 31) - 1,
    1 << 31,
    -(1 << 31),
    1 << 32,
    (1 << 32) + 1,
    -(1 << 32),
    1 << 40,
    1 << 62,
    i64::MAX,
    i64::MAX - 1,
    i64::MIN,
    i64::MIN + 1,
];

const FLOATS: &[f32] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    3.0,
    1e-5,
    1e-30,
    1e30,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    f32::EPSILON,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
];

/// Dims of a graph input: small, zero, and large enough to overflow sizes or budgets.
const DIMS: &[i64] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    8,
    16,
    64,
    1 << 20,
    1 << 31,
    1 << 32,
    1 << 40,
    i64::MAX,
    -1,
];

const OPSET_VERSIONS: &[i64] = &[
    0,
    1,
    6,
    7,
    9,
    10,
    11,
    12,
    13,
    15,
    17,
    18,
    19,
    21,
    23,
    99,
    -1,
    i64::MAX,
];

/// Op types the importer knows (and a few it does not).
const OPS: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Sum",
    "Relu",
    "Identity",
    "Dropout",
    "Flatten",
    "Reshape",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Split",
    "Slice",
    "Gather",
    "Expand",
    "Pad",
    "AveragePool",
    "GlobalAveragePool",
    "MaxPool",
    "BatchNormalization",
    "ReduceMean",
    "ReduceSum",
    "Resize",
    "Upsample",
    "DepthToSpace",
    "SpaceToDepth",
    "Constant",
    "ConstantOfShape",
    "Shape",
    "Size",
    "Cast",
    "Softmax",
    "Sigmoid",
    "Tanh",
    "Erf",
    "Where",
    "Tile",
    "Range",
    "Clip",
    "Pow",
    "Sqrt",
    "LayerNormalization",
    "FuzzUnknownOp",
];

const ATTR_NAMES: &[&str] = &[
    "axis",
    "axes",
    "kernel_shape",
    "strides",
    "pads",
    "dilations",
    "group",
    "perm",
    "alpha",
    "beta",
    "transA",
    "transB",
    "epsilon",
    "momentum",
    "mode",
    "auto_pad",
    "keepdims",
    "noop_with_empty_axes",
    "split",
    "num_outputs",
    "blocksize",
    "ceil_mode",
    "count_include_pad",
    "starts",
    "ends",
    "steps",
    "to",
    "value",
    "value_float",
    "value_floats",
    "value_int",
    "value_ints",
    "allowzero",
    "output_padding",
    "output_shape",
    "coordinate_transformation_mode",
    "nearest_mode",
    "cubic_coeff_a",
    "exclude_outside",
    "scales",
    "spatial",
    "training_mode",
];

const STRINGS: &[&str] = &[
    "",
    "NOTSET",
    "VALID",
    "SAME_UPPER",
    "SAME_LOWER",
    "DCR",
    "CRD",
    "constant",
    "reflect",
    "edge",
    "wrap",
    "nearest",
    "linear",
    "cubic",
    "half_pixel",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_crop_and_resize",
    "round_prefer_floor",
    "round_prefer_ceil",
    "floor",
    "ceil",
    "\u{0}\u{ff}",
];

fn int(u: &mut Unstructured<'_>) -> Result<i64> {
    Ok(match u.int_in_range(0..=9u8)? {
        0..=4 => *u.choose(INTS)?,
        5..=8 => u.int_in_range(-3..=16)?,
        _ => u.arbitrary()?,
    })
}

fn float(u: &mut Unstructured<'_>) -> Result<f32> {
    Ok(match u.int_in_range(0..=3u8)? {
        0..=2 => *u.choose(FLOATS)?,
        _ => u.arbitrary()?,
    })
}

fn ints(u: &mut Unstructured<'_>) -> Result<Vec<i64>> {
    let n = u.int_in_range(0..=6)?;
    (0..n).map(|_| int(u)).collect()
}

fn string(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 8)? {
        u.arbitrary()
    } else {
        Ok(u.choose(STRINGS)?.to_string())
    }
}

fn index(u: &mut Unstructured<'_>, len: usize) -> Result<Option<usize>> {
    if len == 0 {
        Ok(None)
    } else {
        u.choose_index(len).map(Some)
    }
}

/// Bytes per element of an ONNX data type (0 for types without a fixed width).
fn elem_size(data_type: i32) -> usize {
    match data_type {
        1 | 6 | 12 => 4,
        7 | 11 | 13 => 8,
        4 | 5 | 10 | 16 => 2,
        2 | 3 | 9 => 1,
        _ => 0,
    }
}

/// Makes a tensor's data hold exactly what its dims declare (when that is small), as raw data, so that
/// a change of dims or type can pass validation and reach the later stages.
fn fit_data(t: &mut TensorProto, u: &mut Unstructured<'_>) -> Result<()> {
    let size = elem_size(t.data_type);
    let Some(numel) = t.dims.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    }) else {
        return Ok(());
    };
    if size == 0 || numel > 1 << 16 {
        return Ok(());
    }
    let iota = u.ratio(1, 3)?;
    let fill_int = int(u)?;
    let fill_float = float(u)?;
    let mut raw = Vec::with_capacity(numel * size);
    for i in 0..numel {
        let v = if iota { i as i64 } else { fill_int };
        let f = if iota {
            (i % 7) as f32 * 0.25 - 0.75
        } else {
            fill_float
        };
        match t.data_type {
            1 => raw.extend_from_slice(&f.to_le_bytes()),
            11 => raw.extend_from_slice(&f64::from(f).to_le_bytes()),
            7 | 13 => raw.extend_from_slice(&v.to_le_bytes()),
            6 | 12 => raw.extend_from_slice(&(v as i32).to_le_bytes()),
            4 | 5 => raw.extend_from_slice(&(v as i16).to_le_bytes()),
            10 | 16 => raw.extend_from_slice(&((f.to_bits() >> 16) as u16).to_le_bytes()),
            _ => raw.push(v as u8),
        }
    }
    t.float_data.clear();
    t.int32_data.clear();
    t.int64_data.clear();
    t.double_data.clear();
    t.uint64_data.clear();
    t.raw_data = raw.into();
    Ok(())
}

fn small_tensor(u: &mut Unstructured<'_>, name: String) -> Result<TensorProto> {
    let rank = u.int_in_range(0..=4)?;
    let mut t = TensorProto {
        name,
        data_type: *u.choose(&[1, 1, 7, 7, 6, 11, 9, 10])?,
        dims: (0..rank)
            .map(|_| u.int_in_range(0..=5))
            .collect::<Result<_>>()?,
        ..Default::default()
    };
    fit_data(&mut t, u)?;
    Ok(t)
}

/// Every value name of the graph (inputs, initializers, node outputs), plus the empty name and one that
/// nothing defines.
fn value_names(g: &GraphProto) -> Vec<String> {
    let mut names: Vec<String> = g.input.iter().map(|v| v.name.clone()).collect();
    names.extend(g.initializer.iter().map(|t| t.name.clone()));
    names.extend(g.node.iter().flat_map(|n| n.output.iter().cloned()));
    names.push(String::new());
    names.push("fuzz_undefined".into());
    names
}

fn value_name(u: &mut Unstructured<'_>, g: &GraphProto) -> Result<String> {
    Ok(u.choose(&value_names(g))?.clone())
}

/// One of the graph's tensors: an initializer or a tensor held by an attribute (a `Constant`'s value).
fn tensor_mut<'a>(
    g: &'a mut GraphProto,
    u: &mut Unstructured<'_>,
) -> Result<Option<&'a mut TensorProto>> {
    let in_attrs: Vec<(usize, usize)> = g
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            n.attribute
                .iter()
                .enumerate()
                .filter(|(_, a)| a.t.is_some())
                .map(move |(k, _)| (i, k))
        })
        .collect();
    let Some(pick) = index(u, g.initializer.len() + in_attrs.len())? else {
        return Ok(None);
    };
    Ok(if pick < g.initializer.len() {
        Some(&mut g.initializer[pick])
    } else {
        let (i, k) = in_attrs[pick - g.initializer.len()];
        g.node[i].attribute[k].t.as_mut()
    })
}

fn node_mut<'a>(
    g: &'a mut GraphProto,
    u: &mut Unstructured<'_>,
) -> Result<Option<&'a mut NodeProto>> {
    Ok(match index(u, g.node.len())? {
        Some(i) => Some(&mut g.node[i]),
        None => None,
    })
}

fn attr_mut<'a>(
    g: &'a mut GraphProto,
    u: &mut Unstructured<'_>,
) -> Result<Option<&'a mut AttributeProto>> {
    let Some(n) = node_mut(g, u)? else {
        return Ok(None);
    };
    Ok(match index(u, n.attribute.len())? {
        Some(k) => Some(&mut n.attribute[k]),
        None => None,
    })
}

fn new_attr(u: &mut Unstructured<'_>) -> Result<AttributeProto> {
    let mut a = AttributeProto {
        name: u.choose(ATTR_NAMES)?.to_string(),
        ..Default::default()
    };
    match u.int_in_range(0..=5u8)? {
        0 => {
            a.r#type = 2;
            a.i = int(u)?;
        }
        1 => {
            a.r#type = 7;
            a.ints = ints(u)?;
        }
        2 => {
            a.r#type = 1;
            a.f = float(u)?;
        }
        3 => {
            a.r#type = 6;
            let n = u.int_in_range(0..=4)?;
            a.floats = (0..n).map(|_| float(u)).collect::<Result<_>>()?;
        }
        4 => {
            a.r#type = 3;
            a.s = string(u)?.into_bytes();
        }
        _ => {
            a.r#type = 4;
            a.t = Some(small_tensor(u, String::new())?);
        }
    }
    Ok(a)
}

/// The shape of a graph input, output or value info, created when absent.
fn shape_mut(v: &mut ValueInfoProto) -> &mut TensorShapeProto {
    let ty = v.r#type.get_or_insert_with(TypeProto::default);
    if !matches!(ty.value, Some(TypeValue::TensorType(_))) {
        ty.value = Some(TypeValue::TensorType(proto::type_proto::Tensor {
            elem_type: 1,
            shape: None,
        }));
    }
    let Some(TypeValue::TensorType(t)) = ty.value.as_mut() else {
        unreachable!("set above")
    };
    t.shape.get_or_insert_with(TensorShapeProto::default)
}

fn dim(u: &mut Unstructured<'_>) -> Result<Dimension> {
    let value = match u.int_in_range(0..=9u8)? {
        0..=6 => Some(DimValue::DimValue(*u.choose(DIMS)?)),
        7 => Some(DimValue::DimParam(
            u.choose(&["N", "batch", ""])?.to_string(),
        )),
        8 => Some(DimValue::DimValue(u.int_in_range(0..=32)?)),
        _ => None,
    };
    Ok(Dimension {
        value,
        ..Default::default()
    })
}

/// Mutates a value's declared type and shape.
fn mutate_value_info(v: &mut ValueInfoProto, u: &mut Unstructured<'_>) -> Result<()> {
    match u.int_in_range(0..=6u8)? {
        0 | 1 => {
            let shape = shape_mut(v);
            if let Some(k) = index(u, shape.dim.len())? {
                shape.dim[k] = dim(u)?;
            }
        }
        2 => shape_mut(v).dim.push(dim(u)?),
        3 => {
            shape_mut(v).dim.pop();
        }
        4 => {
            shape_mut(v);
            if let Some(TypeValue::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut())
            {
                t.elem_type = *u.choose(&[0, 1, 6, 7, 10, 11, 16, 9, 8, 99])?;
            }
        }
        5 => {
            if let Some(TypeValue::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut())
            {
                t.shape = None;
            }
        }
        _ => v.r#type = None,
    }
    Ok(())
}

fn mutate(m: &mut ModelProto, u: &mut Unstructured<'_>) -> Result<()> {
    let g = m.graph.get_or_insert_with(GraphProto::default);
    match u.int_in_range(0..=29u8)? {
        // attributes: values of every kind, extreme ones first
        0 | 1 => {
            if let Some(a) = attr_mut(g, u)? {
                match u.int_in_range(0..=4u8)? {
                    0 => a.i = int(u)?,
                    1 => {
                        if let Some(k) = index(u, a.ints.len())? {
                            a.ints[k] = int(u)?;
                        }
                    }
                    2 => a.ints.push(int(u)?),
                    3 => {
                        a.ints.pop();
                    }
                    _ => a.ints = ints(u)?,
                }
            }
        }
        2 => {
            if let Some(a) = attr_mut(g, u)? {
                match u.int_in_range(0..=2u8)? {
                    0 => a.f = float(u)?,
                    1 => {
                        if let Some(k) = index(u, a.floats.len())? {
                            a.floats[k] = float(u)?;
                        }
                    }
                    _ => a.floats.push(float(u)?),
                }
            }
        }
        3 => {
            if let Some(a) = attr_mut(g, u)? {
                a.s = string(u)?.into_bytes();
            }
        }
        4 => {
            if let Some(a) = attr_mut(g, u)? {
                a.r#type = if u.ratio(1, 4)? {
                    u.arbitrary()?
                } else {
                    u.int_in_range(0..=14)?
                };
            }
        }
        5 => {
            if let Some(n) = node_mut(g, u)? {
                if let Some(k) = index(u, n.attribute.len())? {
                    n.attribute.remove(k);
                }
            }
        }
        6 => {
            if let Some(n) = node_mut(g, u)? {
                if let Some(k) = index(u, n.attribute.len())? {
                    let mut a = n.attribute[k].clone();
                    if u.ratio(3, 4)? {
                        a.name = u.choose(ATTR_NAMES)?.to_string();
                    }
                    n.attribute.push(a);
                }
            }
        }
        7 => {
            if let Some(n) = node_mut(g, u)? {
                let a = new_attr(u)?;
                // replace an attribute of the same name, so that validation does not refuse a repeat
                n.attribute.retain(|b| b.name != a.name);
                n.attribute.push(a);
            }
        }
        // tensors: dims, data, values, types, names
        8 | 9 => {
            if let Some(t) = tensor_mut(g, u)? {
                match u.int_in_range(0..=4u8)? {
                    0 | 1 => {
                        if let Some(k) = index(u, t.dims.len())? {
                            t.dims[k] = if u.ratio(1, 2)? {
                                u.int_in_range(0..=8)?
                            } else {
                                int(u)?
                            };
                        }
                    }
                    2 => t.dims.push(u.int_in_range(0..=4)?),
                    3 => {
                        t.dims.pop();
                    }
                    _ => t.dims.clear(),
                }
                if u.ratio(3, 4)? {
                    fit_data(t, u)?;
                }
            }
        }
        10 => {
            if let Some(t) = tensor_mut(g, u)? {
                match u.int_in_range(0..=5u8)? {
                    0 => {
                        let n = u.int_in_range(0..=t.raw_data.len())?;
                        t.raw_data.truncate(n);
                    }
                    1 => {
                        let extra = u.int_in_range(1..=16)?;
                        let mut raw = t.raw_data.to_vec();
                        raw.extend(std::iter::repeat_n(0x3f, extra));
                        t.raw_data = raw.into();
                    }
                    2 => {
                        // raw data moved to the typed field
                        let words: Vec<f32> = t
                            .raw_data
                            .chunks_exact(4)
                            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                            .collect();
                        t.raw_data = Default::default();
                        t.float_data = words;
                    }
                    3 => {
                        let n = u.int_in_range(0..=t.float_data.len() + 4)?;
                        t.float_data.resize(n, 0.5);
                    }
                    4 => {
                        let n = u.int_in_range(0..=8)?;
                        t.int64_data = (0..n).map(|_| int(u)).collect::<Result<_>>()?;
                    }
                    _ => {
                        t.raw_data = Default::default();
                        t.float_data.clear();
                    }
                }
            }
        }
        11 | 12 => {
            // one value set to an extreme, in whatever field holds the data
            if let Some(t) = tensor_mut(g, u)? {
                let size = elem_size(t.data_type);
                if !t.raw_data.is_empty() && size > 0 {
                    let count = t.raw_data.len() / size;
                    if let Some(k) = index(u, count)? {
                        let mut raw = t.raw_data.to_vec();
                        let bytes: Vec<u8> = match t.data_type {
                            1 => float(u)?.to_le_bytes().to_vec(),
                            11 => f64::from(float(u)?).to_le_bytes().to_vec(),
                            _ => int(u)?.to_le_bytes()[..size].to_vec(),
                        };
                        raw[k * size..(k + 1) * size].copy_from_slice(&bytes);
                        t.raw_data = raw.into();
                    }
                } else if let Some(k) = index(u, t.int64_data.len())? {
                    t.int64_data[k] = int(u)?;
                } else if let Some(k) = index(u, t.float_data.len())? {
                    t.float_data[k] = float(u)?;
                } else if let Some(k) = index(u, t.int32_data.len())? {
                    t.int32_data[k] = int(u)? as i32;
                }
            }
        }
        13 => {
            if let Some(t) = tensor_mut(g, u)? {
                t.data_type = if u.ratio(1, 8)? {
                    u.arbitrary()?
                } else {
                    u.int_in_range(0..=16)?
                };
                if u.ratio(1, 2)? {
                    fit_data(t, u)?;
                }
            }
        }
        14 => {
            if let Some(i) = index(u, g.initializer.len())? {
                if u.ratio(1, 3)? {
                    g.initializer.remove(i);
                } else {
                    g.initializer[i].name = value_name(u, g)?;
                }
            }
        }
        15 => {
            // a new initializer, often under a name a node reads
            let name = value_name(u, g)?;
            let t = small_tensor(u, name)?;
            g.initializer.push(t);
        }
        // node inputs and outputs
        16 | 17 => {
            let name = value_name(u, g)?;
            if let Some(n) = node_mut(g, u)? {
                match u.int_in_range(0..=4u8)? {
                    0 | 1 => {
                        if let Some(k) = index(u, n.input.len())? {
                            n.input[k] = name;
                        }
                    }
                    2 => n.input.push(name),
                    3 => {
                        n.input.pop();
                    }
                    _ => {
                        if n.input.len() >= 2 {
                            let a = u.choose_index(n.input.len())?;
                            let b = u.choose_index(n.input.len())?;
                            n.input.swap(a, b);
                        }
                    }
                }
            }
        }
        18 => {
            let name = if u.ratio(1, 2)? {
                value_name(u, g)?
            } else {
                format!("fuzz_out_{}", u.int_in_range(0..=3u8)?)
            };
            if let Some(n) = node_mut(g, u)? {
                match u.int_in_range(0..=3u8)? {
                    0 | 1 => {
                        if let Some(k) = index(u, n.output.len())? {
                            n.output[k] = name;
                        }
                    }
                    2 => n.output.push(name),
                    _ => {
                        n.output.pop();
                    }
                }
            }
        }
        // nodes: drop, reorder, duplicate, retype
        19 => {
            if let Some(i) = index(u, g.node.len())? {
                g.node.remove(i);
            }
        }
        20 => {
            if let (Some(a), Some(b)) = (index(u, g.node.len())?, index(u, g.node.len())?) {
                g.node.swap(a, b);
            }
        }
        21 => {
            if let Some(i) = index(u, g.node.len())? {
                let mut n = g.node[i].clone();
                for (k, o) in n.output.iter_mut().enumerate() {
                    *o = format!("{o}_dup{k}");
                }
                if u.ratio(1, 2)? {
                    // the copy reads what the original wrote: a longer chain
                    if let (Some(k), Some(o)) = (index(u, n.input.len())?, g.node[i].output.first())
                    {
                        n.input[k] = o.clone();
                    }
                }
                g.node.insert(i + 1, n);
            }
        }
        22 | 23 => {
            let op = u.choose(OPS)?.to_string();
            if let Some(n) = node_mut(g, u)? {
                n.op_type = op;
            }
        }
        24 => {
            let domain = u
                .choose(&["", "ai.onnx", "com.microsoft", "fuzz"])?
                .to_string();
            if let Some(n) = node_mut(g, u)? {
                n.domain = domain;
            }
        }
        // opsets and the model's own version
        25 => match u.int_in_range(0..=4u8)? {
            0 | 1 => {
                if let Some(i) = index(u, m.opset_import.len())? {
                    m.opset_import[i].version = *u.choose(OPSET_VERSIONS)?;
                }
            }
            2 => m.opset_import.push(OperatorSetIdProto {
                domain: u
                    .choose(&["", "ai.onnx", "ai.onnx.ml", "fuzz"])?
                    .to_string(),
                version: *u.choose(OPSET_VERSIONS)?,
            }),
            3 => {
                if let Some(i) = index(u, m.opset_import.len())? {
                    m.opset_import.remove(i);
                }
            }
            _ => m.ir_version = *u.choose(&[0, 3, 7, 8, 10, -1, i64::MAX])?,
        },
        // graph inputs, outputs, value infos
        26 | 27 => {
            if let Some(i) = index(u, g.input.len())? {
                mutate_value_info(&mut g.input[i], u)?;
            }
        }
        28 => match u.int_in_range(0..=4u8)? {
            0 => {
                let name = value_name(u, g)?;
                if let Some(i) = index(u, g.output.len())? {
                    g.output[i].name = name;
                }
            }
            1 => {
                if let Some(i) = index(u, g.output.len())? {
                    g.output.remove(i);
                }
            }
            2 => {
                let name = value_name(u, g)?;
                g.output.push(ValueInfoProto {
                    name,
                    ..Default::default()
                });
            }
            3 => {
                if let Some(i) = index(u, g.output.len())? {
                    mutate_value_info(&mut g.output[i], u)?;
                }
            }
            _ => {
                // an input that an initializer also defines, or a second graph input
                let name = value_name(u, g)?;
                let mut v = ValueInfoProto {
                    name,
                    ..Default::default()
                };
                let rank = u.int_in_range(0..=4)?;
                let shape = shape_mut(&mut v);
                for _ in 0..rank {
                    shape.dim.push(dim(u)?);
                }
                g.input.push(v);
            }
        },
        _ => match u.int_in_range(0..=2u8)? {
            0 => g.value_info.clear(),
            1 => {
                if let Some(i) = index(u, g.value_info.len())? {
                    mutate_value_info(&mut g.value_info[i], u)?;
                }
            }
            _ => {
                let name = value_name(u, g)?;
                let mut v = ValueInfoProto {
                    name,
                    ..Default::default()
                };
                mutate_value_info(&mut v, u)?;
                g.value_info.push(v);
            }
        },
    }
    Ok(())
}

fn options(u: &mut Unstructured<'_>) -> Result<Options> {
    Ok(Options {
        method: *u.choose(&[Method::Auto, Method::Dense, Method::Sparse, Method::Im2col])?,
        accumulate: *u.choose(&[Accumulate::Native, Accumulate::F64])?,
        policy: *u.choose(&[Policy::Macs, Policy::Params, Policy::Force])?,
        par: Par::Seq,
        memory_budget: 64 << 20,
    })
}

/// The fixture, the options and the mutated model's bytes drawn from the fuzz input.
fn build(data: &[u8]) -> Result<(Options, Vec<u8>)> {
    let mut u = Unstructured::new(data);
    let (name, bytes) = FIXTURES[u.choose_index(FIXTURES.len()).unwrap_or(0)];
    let opts = options(&mut u)?;
    let mut model = ModelProto::decode(bytes).expect("fixtures decode");
    let steps = u.int_in_range(0..=12u8)?;
    for _ in 0..steps {
        if mutate(&mut model, &mut u).is_err() {
            break; // the input ran out: keep what was mutated so far
        }
    }
    let bytes = model.encode_to_vec();
    if let Some(path) = dump_path() {
        eprintln!(
            "fixture {name}, {opts:?}; mutated model written to {}",
            path.display()
        );
        std::fs::write(path, &bytes).expect("FUZZ_DUMP is writable");
    }
    Ok((opts, bytes))
}

/// `FUZZ_DUMP`, read once.
fn dump_path() -> Option<&'static std::path::PathBuf> {
    static PATH: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    PATH.get_or_init(|| std::env::var_os("FUZZ_DUMP").map(Into::into))
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Ok((opts, bytes)) = build(data) else {
        return;
    };
    let Ok(model) = OnnxModel::decode(&bytes, "fuzz") else {
        return;
    };
    let _ = pipeline::inspect_onnx(&model, &opts);
    if let Ok((out, _summary)) = pipeline::collapse_onnx(model, &opts, &mut |_, _| {}) {
        let again = OnnxModel::decode(&out.encode(), "collapsed")
            .unwrap_or_else(|e| panic!("the collapsed model does not decode: {e}"));
        let _ = pipeline::inspect_onnx(&again, &opts);
    }
});
