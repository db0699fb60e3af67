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

/// Several model ops for one node (applied in order), `None` for a boundary.
pub(super) type MappedMany = Option<Vec<Op<f32>>>;

/// Maps one node, given its data inputs (the non-constant ones, in order) and the first one's shape: to
/// one model op, or to a short sequence of them (a global pool, then a reshape that drops the axes).
#[derive(Clone, Copy)]
enum Mapper {
    One(fn(&Ctx<'_>, &NodeProto, &[Src], Shape) -> Result<Mapped>),
    Many(fn(&Ctx<'_>, &NodeProto, &[Src], Shape) -> Result<MappedMany>),
}

use Mapper::{Many, One};

/// Every op type with a mapper.
const TABLE: &[(&str, Mapper)] = &[
    ("Identity", One(merge::identity)),
    ("Dropout", One(merge::identity)),
    ("Add", One(merge::add)),
    ("Sum", One(merge::add)),
    ("Concat", One(merge::concat)),
    ("Gemm", One(gemm::gemm)),
    ("MatMul", One(gemm::matmul)),
    ("Conv", One(conv::conv)),
    ("ConvTranspose", One(conv::conv_transpose)),
    ("BatchNormalization", One(norm::batch_norm)),
    ("AveragePool", One(pool::average_pool)),
    ("GlobalAveragePool", Many(pool::global_average_pool)),
    ("ReduceMean", Many(pool::reduce_mean)),
    ("Pad", One(pad::pad)),
    ("Flatten", One(reshape::flatten)),
    ("Reshape", One(reshape::reshape)),
    ("Squeeze", One(reshape::squeeze)),
    ("Unsqueeze", One(reshape::squeeze)),
    ("Transpose", One(reshape::transpose)),
];

/// The linear ops of `node` (see the module docs), in order.
pub(super) fn map(
    ctx: &Ctx<'_>,
    node: &NodeProto,
    data: &[Src],
    shape: Shape,
) -> Result<MappedMany> {
    match TABLE.iter().find(|(op, _)| *op == node.op_type) {
        Some((_, One(mapper))) => Ok(mapper(ctx, node, data, shape)?.map(|op| vec![op])),
        Some((_, Many(mapper))) => mapper(ctx, node, data, shape),
        None => Ok(None),
    }
}
