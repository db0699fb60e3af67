//! One mapping function per ONNX op family, found through one table from op type to mapper.
//!
//! A mapper returns the linear op a node becomes, `None` when the node is not one this crate can express
//! (it becomes a boundary between linear runs), or an error when it should be one but is malformed.

mod attrs;
mod conv;
mod gemm;
mod merge;
mod norm;
mod pad;
mod pool;
mod reshape;

use std::collections::HashMap;

use crate::graph::{Op, Src};
use crate::io::onnx::{NodeProto, TensorProto};
use crate::{Result, Shape};

pub(super) use attrs::node_err;
pub(super) use pool::pool_geometry;

/// What a mapper can see besides the node: the graph's constant tensors.
pub(super) struct Ctx<'a> {
    pub(super) inits: &'a HashMap<&'a str, &'a TensorProto>,
}

impl Ctx<'_> {
    /// The initializer named `name`.
    pub(super) fn init(&self, name: &str) -> Option<&TensorProto> {
        self.inits.get(name).copied()
    }

    /// Input `i` of `node`, when it is present and an initializer.
    pub(super) fn input(&self, node: &NodeProto, i: usize) -> Option<&TensorProto> {
        node.input
            .get(i)
            .filter(|n| !n.is_empty())
            .and_then(|n| self.init(n))
    }
}

/// The model op of a node, `None` for a boundary.
pub(super) type Mapped = Option<Op<f32>>;

/// Maps one node, given its data inputs (the non-constant ones, in order) and the first one's shape.
type Mapper = fn(&Ctx<'_>, &NodeProto, &[Src], Shape) -> Result<Mapped>;

/// Every op type with a mapper.
const TABLE: &[(&str, Mapper)] = &[
    ("Identity", merge::identity),
    ("Dropout", merge::identity),
    ("Add", merge::add),
    ("Sum", merge::add),
    ("Concat", merge::concat),
    ("Gemm", gemm::gemm),
    ("MatMul", gemm::matmul),
    ("Conv", conv::conv),
    ("ConvTranspose", conv::conv_transpose),
    ("BatchNormalization", norm::batch_norm),
    ("AveragePool", pool::average_pool),
    ("Pad", pad::pad),
    ("Flatten", reshape::flatten),
    ("Reshape", reshape::reshape),
    ("Squeeze", reshape::squeeze),
    ("Unsqueeze", reshape::squeeze),
    ("Transpose", reshape::transpose),
];

/// The linear op of `node` (see the module docs).
pub(super) fn map(ctx: &Ctx<'_>, node: &NodeProto, data: &[Src], shape: Shape) -> Result<Mapped> {
    match TABLE.iter().find(|(op, _)| *op == node.op_type) {
        Some((_, mapper)) => mapper(ctx, node, data, shape),
        None => Ok(None),
    }
}
