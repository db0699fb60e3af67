//! `BatchNormalization` (inference): a per-channel affine map.

use ndarray::Array1;

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_float, attr_int};
use crate::layer::{BatchNorm, Layer};
use crate::Result;

pub(super) fn batch_norm(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let node = ctx.node;
    let training = attr_int(node, "training_mode")?.unwrap_or(0) != 0;
    // opset 1-8: `spatial = 0` normalises each element on its own (not per channel)
    let per_element = ctx.opset < 9 && attr_int(node, "spatial")?.unwrap_or(1) == 0;
    let outputs = node.output.iter().filter(|o| !o.is_empty()).count();
    if training || per_element || outputs != 1 || ctx.data_args() != [0] {
        return Ok(None);
    }
    let v =
        |i| -> Result<Option<Array1<f32>>> { Ok(ctx.floats(i)?.map(|t| t.into_iter().collect())) };
    let (Some(s), Some(b), Some(mean), Some(var)) = (v(1)?, v(2)?, v(3)?, v(4)?) else {
        return Ok(None);
    };
    let channels = ctx.data(0).and_then(|x| x.dims().first().copied());
    for (i, (name, t)) in ["scale", "B", "input_mean", "input_var"]
        .iter()
        .zip([&s, &b, &mean, &var])
        .enumerate()
    {
        if Some(t.len()) != channels {
            return Err(ctx.invalid(format!(
                "{name} (input {}, '{}') has {} values; the input's {} channels need one each",
                i + 1,
                node.input[i + 1],
                t.len(),
                channels.map_or("unknown".into(), |c| c.to_string())
            )));
        }
    }
    let eps = attr_float(node, "epsilon")?.unwrap_or(1e-5) as f64;
    let bn = BatchNorm::new(mean, var, eps, Some(s), Some(b)).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::BatchNorm(bn))])))
}
