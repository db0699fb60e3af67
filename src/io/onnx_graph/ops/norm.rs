//! `BatchNormalization` (inference): a per-channel affine map.

use ndarray::Array1;

use super::attrs::node_err;
use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_float, tensor_f32, NodeProto, TensorProto};
use crate::layer::{BatchNorm, Layer};
use crate::{Result, Shape};

pub(super) fn batch_norm(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], _: Shape) -> Result<Mapped> {
    let w = |i| ctx.input(node, i);
    let (Some(s), Some(b), Some(mean), Some(var)) = (w(1), w(2), w(3), w(4)) else {
        return Ok(None);
    };
    let v = |t: &TensorProto| -> Result<Array1<f32>> { Ok(tensor_f32(t)?.into_iter().collect()) };
    let eps = attr_float(node, "epsilon")?.unwrap_or(1e-5) as f64;
    let bn = BatchNorm::new(v(mean)?, v(var)?, eps, Some(v(s)?), Some(v(b)?))
        .map_err(|e| node_err(node, e))?;
    Ok(Some(Op::Layer(Layer::BatchNorm(bn))))
}
