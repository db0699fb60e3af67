//! A PyTorch module chain described in JSON, with its weights from a `state_dict` in safetensors.
//!
//! ```json
//! {
//!   "input_shape": [5, 13, 13],
//!   "layers": [
//!     {"type": "Conv2d", "name": "0", "stride": 2, "padding": 0},
//!     {"type": "Flatten"},
//!     {"type": "Linear", "name": "2"}
//!   ]
//! }
//! ```
//!
//! Layer types and keys use PyTorch's vocabulary: `Conv2d` / `Conv1d` (`stride`, `padding` (an int, a
//! pair, or `[top, left, bottom, right]`), `dilation`, `groups`), `Linear`, `Flatten`, `BatchNorm1d` /
//! `BatchNorm2d` (`eps`), `AvgPool2d` (`kernel_size`, `stride`, `padding`, `ceil_mode`,
//! `count_include_pad`), `ZeroPad2d` / `ConstantPad2d` (`padding` as PyTorch's `(left, right, top,
//! bottom)`, `value`), `Identity`, `Dropout`. Weights are read as `<name>.weight`, `<name>.bias`,
//! `<name>.running_mean`, `<name>.running_var`; kernel sizes and channel counts come from the tensors.

use ndarray::{Array1, Ix1, Ix2, Ix3, Ix4};
use serde_json::Value;

use super::safetensors::Weights;
use crate::layer::{
    AvgPool2d, AvgPool2dConfig, BatchNorm, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, Dropout,
    Flatten, Identity, Layer, Linear, Pad, PadMode,
};
use crate::{Error, Result, Shape};

/// Builds the chain described by `spec` (JSON text, see the module docs) with weights from `weights`.
///
/// # Errors
/// [`Error::Format`] naming the layer and key when the JSON is malformed or a key has the wrong type, or
/// naming the tensor when a weight is missing or has the wrong shape; [`Error::InvalidLayer`] when a
/// layer is inconsistent.
///
/// ```
/// use linear_collapse::io::{safetensors::Weights, spec};
/// let w = Weights::read("tests/data/seed_conv_fc/weights.safetensors")?;
/// let json = r#"{"input_shape": [5, 13, 13], "layers": [
///     {"type": "Conv2d", "name": "0", "stride": 2}, {"type": "Flatten"}, {"type": "Linear", "name": "2"}]}"#;
/// let (chain, input) = spec::load(json, &w)?;
/// assert_eq!((chain.len(), input.numel()), (3, 845));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn load(spec: &str, weights: &Weights) -> Result<(Vec<Layer<f32>>, Shape)> {
    let v: Value = serde_json::from_str(spec).map_err(|e| Error::Format {
        context: "chain spec".into(),
        source: Box::new(e),
    })?;
    let dims = uints(&v["input_shape"], "chain spec: input_shape")?;
    let input = Shape::from_dims(&dims).ok_or_else(|| {
        Error::format(
            "chain spec: input_shape",
            format!("{dims:?} must have 1 to 3 dimensions"),
        )
    })?;
    let layers = v["layers"]
        .as_array()
        .ok_or_else(|| Error::format("chain spec", "'layers' must be an array"))?;
    let chain = layers
        .iter()
        .enumerate()
        .map(|(i, l)| layer(i, l, weights))
        .collect::<Result<_>>()?;
    Ok((chain, input))
}

fn uints(v: &Value, what: &str) -> Result<Vec<usize>> {
    match v {
        Value::Number(n) => Ok(vec![n
            .as_u64()
            .ok_or_else(|| Error::format(what, "must be a non-negative integer"))?
            as usize]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_u64()
                    .map(|n| n as usize)
                    .ok_or_else(|| Error::format(what, "must hold non-negative integers"))
            })
            .collect(),
        _ => Err(Error::format(
            what,
            format!("expected an integer or a list, got {v}"),
        )),
    }
}

fn layer(i: usize, l: &Value, w: &Weights) -> Result<Layer<f32>> {
    let ty = l["type"]
        .as_str()
        .ok_or_else(|| Error::format(format!("chain spec: layer #{i}"), "missing 'type'"))?;
    let ctx = |key: &str| format!("chain spec: layer #{i} ({ty}) key '{key}'");
    let opt = |key: &str, default: Vec<usize>| -> Result<Vec<usize>> {
        if l[key].is_null() {
            Ok(default)
        } else {
            uints(&l[key], &ctx(key))
        }
    };
    let two = |key: &str, d: usize| -> Result<[usize; 2]> {
        match opt(key, vec![d])?.as_slice() {
            [a] => Ok([*a, *a]),
            [a, b] => Ok([*a, *b]),
            other => Err(Error::format(
                ctx(key),
                format!("expected 1 or 2 values, got {other:?}"),
            )),
        }
    };
    let name = || {
        l["name"].as_str().map(str::to_string).ok_or_else(|| {
            Error::format(
                format!("chain spec: layer #{i} ({ty})"),
                "missing 'name' (the state_dict prefix)",
            )
        })
    };
    let t = |suffix: &str| -> Result<ndarray::ArrayD<f32>> {
        w.tensor::<f32>(&format!("{}.{suffix}", name()?))
    };
    let has = |suffix: &str| {
        name()
            .map(|n| w.names().contains(&format!("{n}.{suffix}")))
            .unwrap_or(false)
    };
    let dim_err = |what: &'static str| {
        move |e: ndarray::ShapeError| {
            Error::format(format!("layer #{i} ({ty}) {what}"), e.to_string())
        }
    };
    let bias = || -> Result<Option<Array1<f32>>> {
        if has("bias") {
            Ok(Some(
                t("bias")?
                    .into_dimensionality::<Ix1>()
                    .map_err(dim_err("bias"))?,
            ))
        } else {
            Ok(None)
        }
    };
    Ok(match ty {
        "Flatten" => Flatten.into(),
        "Identity" => Identity.into(),
        "Dropout" => Dropout::new(l["p"].as_f64().unwrap_or(0.5))?.into(),
        "Linear" => Linear::new(
            t("weight")?
                .into_dimensionality::<Ix2>()
                .map_err(dim_err("weight"))?,
            bias()?,
        )?
        .into(),
        "Conv2d" => {
            let pad = match opt("padding", vec![0])?.as_slice() {
                [p] => [*p; 4],
                [p, q] => [*p, *q, *p, *q],
                [a, b, c, d] => [*a, *b, *c, *d],
                other => {
                    return Err(Error::format(
                        ctx("padding"),
                        format!("expected 1, 2 or 4 values, got {other:?}"),
                    ))
                }
            };
            let cfg = Conv2dConfig {
                stride: two("stride", 1)?,
                dilation: two("dilation", 1)?,
                padding: pad,
                groups: opt("groups", vec![1])?[0],
            };
            Conv2d::new(
                t("weight")?
                    .into_dimensionality::<Ix4>()
                    .map_err(dim_err("weight"))?,
                bias()?,
                cfg,
            )?
            .into()
        }
        "Conv1d" => {
            let p = opt("padding", vec![0])?;
            let cfg = Conv1dConfig {
                stride: opt("stride", vec![1])?[0],
                dilation: opt("dilation", vec![1])?[0],
                padding: [p[0], *p.get(1).unwrap_or(&p[0])],
                groups: opt("groups", vec![1])?[0],
            };
            Conv1d::new(
                t("weight")?
                    .into_dimensionality::<Ix3>()
                    .map_err(dim_err("weight"))?,
                bias()?,
                cfg,
            )?
            .into()
        }
        "BatchNorm1d" | "BatchNorm2d" => {
            let v = |s: &'static str| -> Result<Array1<f32>> {
                t(s)?.into_dimensionality::<Ix1>().map_err(dim_err(s))
            };
            let gamma = if has("weight") {
                Some(v("weight")?)
            } else {
                None
            };
            BatchNorm::new(
                v("running_mean")?,
                v("running_var")?,
                l["eps"].as_f64().unwrap_or(1e-5),
                gamma,
                bias()?,
            )?
            .into()
        }
        "AvgPool2d" => {
            let k = two("kernel_size", 1)?;
            let [ph, pw] = two("padding", 0)?;
            let cfg = AvgPool2dConfig {
                stride: if l["stride"].is_null() {
                    None
                } else {
                    Some(two("stride", 1)?)
                },
                padding: [ph, pw, ph, pw],
                ceil_mode: l["ceil_mode"].as_bool().unwrap_or(false),
                count_include_pad: l["count_include_pad"].as_bool().unwrap_or(true),
            };
            AvgPool2d::new(k, cfg)?.into()
        }
        "ZeroPad2d" | "ConstantPad2d" => {
            let p = match opt("padding", vec![0])?.as_slice() {
                [p] => [*p; 4],
                [l_, r, t_, b] => [*t_, *l_, *b, *r],
                other => {
                    return Err(Error::format(
                        ctx("padding"),
                        format!("expected 1 or 4 values (left, right, top, bottom), got {other:?}"),
                    ))
                }
            };
            Pad::new(
                p,
                PadMode::Constant(l["value"].as_f64().unwrap_or(0.0) as f32),
            )?
            .into()
        }
        other => {
            return Err(Error::Unsupported {
                op_type: other.into(),
                detail: format!("layer #{i} of the chain spec"),
            })
        }
    })
}
