//! What a run costs: parameters, and multiply-adds per sample counted from each layer's structure.

use crate::compose::plan::conv_nnz;
use crate::graph::{Model, Op, Src};
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::{lower, Result, Scalar, Shape};

/// Multiply-adds of one sample through a layer: stored entries of its matrix (structural for convs).
pub(super) fn layer_macs<T: Scalar>(layer: &Layer<T>, input: Shape) -> Result<u64> {
    Ok(match layer {
        // W once per position of the leading axes: positions * in * out
        Layer::Linear(l) => (input.numel() as u64).saturating_mul(l.out_features() as u64),
        // Counted from the geometry: the Toeplitz matrix of a large image is never built to be measured.
        Layer::Conv2d(c) => conv_nnz(c, input),
        other => match lower::lower(other, input)?.matrix {
            Matrix::Sparse(s) => s.nnz() as u64,
            Matrix::Dense(d) => d.len() as u64,
            Matrix::Identity(_) => 0,
        },
    })
}

/// Parameters and multiply-adds per sample of a model.
pub(super) fn model_cost<T: Scalar>(m: &Model<T>) -> Result<(usize, u64)> {
    let shapes = m.shapes()?;
    let mut macs = 0;
    for node in m.nodes() {
        if let Op::Layer(l) = &node.op {
            let input = match node.inputs[0] {
                Src::Input => m.input_shape(),
                Src::Node(i) => shapes[i],
            };
            macs += layer_macs(l, input)?;
        }
    }
    Ok((m.num_params(), macs))
}
