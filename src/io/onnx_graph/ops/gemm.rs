//! `Gemm` and `MatMul` by a constant matrix: a Linear over the last axis.

use ndarray::{Array1, Ix2};

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_float, attr_int};
use crate::layer::{Layer, Linear, Permute};
use crate::Result;

pub(super) fn gemm(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let node = ctx.node;
    let (Some(b), Some(_), 0) = (
        ctx.floats(1)?,
        ctx.data(0),
        attr_int(node, "transA")?.unwrap_or(0),
    ) else {
        return Ok(None);
    };
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let alpha = attr_float(node, "alpha")?.unwrap_or(1.0);
    let beta = attr_float(node, "beta")?.unwrap_or(1.0);
    let b = b
        .into_dimensionality::<Ix2>()
        .map_err(|e| ctx.invalid(e.to_string()))?;
    let weight = if attr_int(node, "transB")?.unwrap_or(0) != 0 {
        b
    } else {
        b.t().to_owned()
    };
    let weight = if alpha == 1.0 {
        weight
    } else {
        weight.mapv(|v| v * alpha)
    };
    let out = weight.nrows();
    let bias = match ctx.floats(2)? {
        // C broadcasts over (M, N): a bias is constant along M
        // (N,), (1, N), (1,) or a scalar: the same bias for every row
        Some(c) if c.ndim() <= 2 && c.shape().iter().rev().skip(1).all(|&d| d == 1) => {
            let v: Vec<f32> = c.iter().map(|x| x * beta).collect();
            match v.len() {
                1 => Some(Array1::from_elem(out, v[0])),
                n if n == out => Some(Array1::from(v)),
                _ => {
                    return Err(
                        ctx.invalid(format!("C {:?} does not broadcast to ({out},)", c.shape()))
                    )
                }
            }
        }
        Some(_) => return Ok(None), // a C that varies along M is not a bias
        None if ctx.arg(2).is_absent() => None,
        None => return Ok(None),
    };
    let fc = Linear::new(weight, bias).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Linear(fc))])))
}

/// `MatMul(x, B)` by a constant matrix: a Linear over the last axis (`nn.Linear` on tokens, a 1x1 conv in
/// channels-last layout). `MatMul(A, x)` by a constant on the left: the same between two swaps of the last
/// two axes.
pub(super) fn matmul(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    match (ctx.data(0), ctx.data(1)) {
        (Some(_), None) => {
            let Some(b) = ctx.floats(1)?.and_then(matrix) else {
                return Ok(None);
            };
            let fc = Linear::new(b.t().to_owned(), None).map_err(|e| ctx.err(e))?;
            Ok(Some(ctx.chain(vec![Op::Layer(Layer::Linear(fc))])))
        }
        (None, Some(x)) if x.rank() >= 2 => {
            let Some(a) = ctx.floats(0)?.and_then(matrix) else {
                return Ok(None);
            };
            let r = x.rank();
            let mut swap: Vec<usize> = (0..r).collect();
            swap.swap(r - 2, r - 1);
            let p = || Permute::new(&swap).map(|p| Op::Layer(Layer::Permute(p)));
            let fc = Linear::new(a, None).map_err(|e| ctx.err(e))?;
            let ops = vec![
                p().map_err(|e| ctx.err(e))?,
                Op::Layer(Layer::Linear(fc)),
                p().map_err(|e| ctx.err(e))?,
            ];
            Ok(Some(ctx.chain(ops)))
        }
        _ => Ok(None),
    }
}

/// A constant as a matrix: 2-d, or with leading axes of 1.
fn matrix(b: ndarray::ArrayD<f32>) -> Option<ndarray::Array2<f32>> {
    let n = b.ndim();
    if n < 2 || b.shape()[..n - 2].iter().any(|&d| d != 1) {
        return None;
    }
    let (k, m) = (b.shape()[n - 2], b.shape()[n - 1]);
    b.into_shape_with_order((k, m)).ok()
}
