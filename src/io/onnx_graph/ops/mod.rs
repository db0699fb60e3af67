//! One mapping function per ONNX op family, driven by one table from op type to mapper.
//!
//! A mapper sees the node, what each input is ([`Arg`]: absent, a constant, or a runtime value with its
//! per-sample shape) and the per-sample shapes of its outputs, all computed beforehand. It returns the
//! linear model nodes the node becomes ([`Emit`]s, each reading node inputs or earlier emits; a `Split`
//! emits one slice per output, a `Sub` a negation and an `Add`), `None` when this crate cannot express the
//! node as linear (it becomes a boundary between linear runs), or an error when it should be linear but is
//! malformed.

mod arith;
mod attrs;
mod conv;
mod gemm;
mod index;
mod merge;
mod nonlinear;
mod norm;
mod pad;
mod pool;
mod reduce;
mod reshape;
mod resize;
mod space;

use ndarray::ArrayD;

use super::analyze::Const;
use crate::graph::{Op, Src};
use crate::io::onnx::NodeProto;
use crate::{Error, Result, Shape};

pub(super) use attrs::node_err;
pub(super) use nonlinear::nonlinear;

/// What one input of a node is.
#[derive(Clone, Copy, Debug)]
pub(super) enum Arg<'a, 'g> {
    /// Omitted (an optional input left empty) or past the inputs the node lists.
    Absent,
    /// A constant: a weight, or a folded value.
    Const(&'a Const<'g>),
    /// A runtime value whose first axis is the batch: its model node, per-sample shape, and whether it
    /// holds FLOAT values.
    Data { src: Src, shape: Shape, float: bool },
    /// Any other runtime value (dims unknown, batch axis lost, no model node): no linear op reads it.
    Other(Option<Src>),
}

impl Arg<'_, '_> {
    /// True for an omitted input.
    pub(super) fn is_absent(&self) -> bool {
        matches!(self, Arg::Absent)
    }
}

/// Where an emitted model node reads a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum From {
    /// The node's input `i` (a runtime value).
    Arg(usize),
    /// The output of emit `j` of the same node.
    Emit(usize),
}

/// One model node a mapper makes.
#[derive(Clone, Debug)]
pub(super) struct Emit {
    pub(super) op: Op<f32>,
    pub(super) inputs: Vec<From>,
    /// The node output it writes, `None` for a value inside the node.
    pub(super) writes: Option<usize>,
}

/// Everything a mapper sees.
pub(super) struct Ctx<'x, 'a, 'g> {
    pub(super) node: &'g NodeProto,
    pub(super) args: &'x [Arg<'a, 'g>],
    /// The per-sample shape of each output.
    pub(super) outputs: Vec<Shape>,
    /// The default operator set's version.
    pub(super) opset: i64,
}

/// A mapper: the model nodes of a node, or `None` for a boundary.
type Mapper = fn(&Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>>;

/// Every op type with a mapper.
const TABLE: &[(&str, Mapper)] = &[
    ("Identity", merge::identity),
    ("Dropout", merge::identity),
    ("Add", arith::add),
    ("Sum", arith::add),
    ("Sub", arith::sub),
    ("Mul", arith::mul),
    ("Div", arith::mul),
    ("Neg", arith::neg),
    ("Concat", merge::concat),
    ("Split", index::split),
    ("Slice", index::slice),
    ("Gather", index::gather),
    ("Expand", index::expand),
    ("Gemm", gemm::gemm),
    ("MatMul", gemm::matmul),
    ("Conv", conv::conv),
    ("ConvTranspose", conv::conv_transpose),
    ("BatchNormalization", norm::batch_norm),
    ("AveragePool", pool::average_pool),
    ("GlobalAveragePool", pool::global_average_pool),
    ("ReduceMean", reduce::reduce),
    ("ReduceSum", reduce::reduce),
    ("Pad", pad::pad),
    ("Flatten", reshape::reshape),
    ("Reshape", reshape::reshape),
    ("Squeeze", reshape::reshape),
    ("Unsqueeze", reshape::reshape),
    ("Transpose", reshape::transpose),
    ("Resize", resize::resize),
    ("Upsample", resize::resize),
    ("DepthToSpace", space::depth_to_space),
    ("SpaceToDepth", space::space_to_depth),
];

/// The linear model nodes of the node in `ctx`, `None` for a boundary.
///
/// # Errors
/// As the op's mapper: a malformed weight or attribute of an op that should be linear.
pub(super) fn map(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    match TABLE.iter().find(|(op, _)| *op == ctx.node.op_type) {
        Some((_, mapper)) => mapper(ctx),
        None => Ok(None),
    }
}

impl Ctx<'_, '_, '_> {
    /// Input `i`.
    pub(super) fn arg(&self, i: usize) -> Arg<'_, '_> {
        self.args.get(i).copied().unwrap_or(Arg::Absent)
    }

    /// The per-sample shape of input `i` when it is a runtime value.
    pub(super) fn data(&self, i: usize) -> Option<Shape> {
        match self.arg(i) {
            Arg::Data { shape, .. } => Some(shape),
            _ => None,
        }
    }

    /// The indices of the inputs that are runtime values.
    pub(super) fn data_args(&self) -> Vec<usize> {
        (0..self.args.len())
            .filter(|&i| matches!(self.args[i], Arg::Data { .. }))
            .collect()
    }

    /// Input `i` when it is a constant.
    pub(super) fn konst(&self, i: usize) -> Option<&Const<'_>> {
        match self.args.get(i) {
            Some(Arg::Const(c)) => Some(c),
            _ => None,
        }
    }

    /// Input `i`'s values as floats when it is a constant (not one folded from a symbolic batch).
    ///
    /// # Errors
    /// As the tensor's decoding.
    pub(super) fn floats(&self, i: usize) -> Result<Option<ArrayD<f32>>> {
        match self.konst(i) {
            Some(c) if !c.batch_dependent() => Ok(Some(c.floats()?)),
            _ => Ok(None),
        }
    }

    /// Input `i`'s values as integers when it is a constant, flattened.
    ///
    /// # Errors
    /// As the tensor's decoding.
    pub(super) fn ints(&self, i: usize) -> Result<Option<Vec<i64>>> {
        match self.konst(i) {
            Some(c) => Ok(Some(c.tensor()?.to_i64().into_raw_vec_and_offset().0)),
            None => Ok(None),
        }
    }

    /// An error naming the node.
    pub(super) fn err(&self, e: Error) -> Error {
        node_err(self.node, e)
    }

    /// An invalid-node error with a reason.
    pub(super) fn invalid(&self, reason: impl Into<String>) -> Error {
        node_err(self.node, Error::invalid("", reason))
    }

    /// The per-sample axis of an ONNX axis over `rank` dims (batch included); `None` for the batch axis
    /// or one out of range.
    pub(super) fn sample_axis(&self, axis: i64, rank: usize) -> Option<usize> {
        let r = rank as i64;
        let a = if axis < 0 { axis + r } else { axis };
        (1..r).contains(&a).then(|| (a - 1) as usize)
    }

    /// `ops` applied one after another to the first runtime input, the last writing output 0.
    pub(super) fn chain(&self, ops: Vec<Op<f32>>) -> Vec<Emit> {
        let first = self.data_args().first().copied().unwrap_or(0);
        let n = ops.len();
        ops.into_iter()
            .enumerate()
            .map(|(j, op)| Emit {
                op,
                inputs: vec![if j == 0 {
                    From::Arg(first)
                } else {
                    From::Emit(j - 1)
                }],
                writes: (j + 1 == n).then_some(0),
            })
            .collect()
    }
}
