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
    if dims.is_empty() {
        return Err(Error::format(
            "chain spec: input_shape",
            "[] has no dimension: give the sample's shape, e.g. [5, 13, 13]",
        ));
    }
    if dims.contains(&0) {
        return Err(Error::format(
            "chain spec: input_shape",
            format!("{dims:?} has a 0: each dimension must be at least 1"),
        ));
    }
    let input = Shape::from_dims(&dims).ok_or_else(|| {
        Error::format(
            "chain spec: input_shape",
            format!("{dims:?} must have 1 to 3 dimensions"),
        )
    })?;
    let layers = v["layers"]
        .as_array()
        .ok_or_else(|| Error::format("chain spec", "'layers' must be an array"))?;
    if layers.is_empty() {
        return Err(Error::format(
            "chain spec",
            "'layers' is empty: there is nothing to collapse",
        ));
    }
    let chain = layers
        .iter()
        .enumerate()
        .map(|(i, l)| layer(i, l, weights))
        .collect::<Result<_>>()?;
    Ok((chain, input))
}

/// `x` as a size, stride, padding or count: a non-negative integer (what it may be is each layer's to
/// check, with checked arithmetic).
fn uint(x: &Value, what: &str) -> Result<usize> {
    x.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::format(what, format!("{x} must be a non-negative integer")))
}

fn uints(v: &Value, what: &str) -> Result<Vec<usize>> {
    match v {
        Value::Number(_) => Ok(vec![uint(v, what)?]),
        Value::Array(a) => a.iter().map(|x| uint(x, what)).collect(),
        _ => Err(Error::format(
            what,
            format!("expected an integer or a list, got {v}"),
        )),
    }
}

/// One layer of the spec being read: its index, JSON object, type, and the weights.
struct Entry<'a> {
    i: usize,
    l: &'a Value,
    ty: &'a str,
    w: &'a Weights,
}

fn layer(i: usize, l: &Value, w: &Weights) -> Result<Layer<f32>> {
    let ty = l["type"]
        .as_str()
        .ok_or_else(|| Error::format(format!("chain spec: layer #{i}"), "missing 'type'"))?;
    let e = Entry { i, l, ty, w };
    entry(&e).map_err(|err| match err {
        // the constructor's own description (`Conv2d(0->3, ...)`) may be built from the bad values
        Error::InvalidLayer { reason, .. } => Error::invalid(e.describe(), reason),
        Error::Format { ref context, .. } if context.starts_with("chain spec") => err,
        Error::TooLarge { .. } | Error::Unsupported { .. } => err,
        other => Error::invalid(e.describe(), other.to_string()),
    })
}

fn entry(e: &Entry<'_>) -> Result<Layer<f32>> {
    let (i, l, ty) = (e.i, e.l, e.ty);
    Ok(match ty {
        "Flatten" => Flatten.into(),
        "Identity" => Identity.into(),
        "Dropout" => Dropout::new(l["p"].as_f64().unwrap_or(0.5))?.into(),
        "Linear" => Linear::new(e.weight::<Ix2>()?, e.bias()?)?.into(),
        "Conv2d" => conv2d(e)?.into(),
        "Conv1d" => conv1d(e)?.into(),
        "BatchNorm1d" | "BatchNorm2d" => batchnorm(e)?.into(),
        "AvgPool2d" => avgpool2d(e)?.into(),
        "ZeroPad2d" | "ConstantPad2d" => pad(e)?.into(),
        other => {
            return Err(Error::Unsupported {
                op_type: other.into(),
                detail: format!("layer #{i} of the chain spec"),
            })
        }
    })
}

impl Entry<'_> {
    /// Names the layer in errors: `chain spec: layer #2 (Conv2d '3')`.
    fn describe(&self) -> String {
        match self.l["name"].as_str() {
            Some(n) => format!("chain spec: layer #{} ({} '{n}')", self.i, self.ty),
            None => format!("chain spec: layer #{} ({})", self.i, self.ty),
        }
    }

    /// Names the layer and `key` in errors.
    fn ctx(&self, key: &str) -> String {
        format!("chain spec: layer #{} ({}) key '{key}'", self.i, self.ty)
    }

    /// The integers under `key` (`default` when absent).
    fn ints(&self, key: &str, default: Vec<usize>) -> Result<Vec<usize>> {
        if self.l[key].is_null() {
            Ok(default)
        } else {
            uints(&self.l[key], &self.ctx(key))
        }
    }

    /// Exactly one integer under `key` (an int or a one-element list).
    fn one(&self, key: &str, default: usize) -> Result<usize> {
        match self.ints(key, vec![default])?.as_slice() {
            [a] => Ok(*a),
            other => Err(Error::format(
                self.ctx(key),
                format!("expected one value, got {other:?}"),
            )),
        }
    }

    /// One integer for both axes, or a pair.
    fn two(&self, key: &str, default: usize) -> Result<[usize; 2]> {
        match self.ints(key, vec![default])?.as_slice() {
            [a] => Ok([*a, *a]),
            [a, b] => Ok([*a, *b]),
            other => Err(Error::format(
                self.ctx(key),
                format!("expected 1 or 2 values, got {other:?}"),
            )),
        }
    }

    /// The state_dict prefix.
    fn name(&self) -> Result<&str> {
        self.l["name"].as_str().ok_or_else(|| {
            Error::format(
                format!("chain spec: layer #{} ({})", self.i, self.ty),
                "missing 'name' (the state_dict prefix)",
            )
        })
    }

    fn has(&self, suffix: &str) -> bool {
        self.name()
            .map(|n| self.w.names().contains(&format!("{n}.{suffix}")))
            .unwrap_or(false)
    }

    /// The tensor `<name>.<suffix>` with `D` dimensions.
    fn tensor<D: ndarray::Dimension>(&self, suffix: &str) -> Result<ndarray::Array<f32, D>> {
        let name = format!("{}.{suffix}", self.name()?);
        let t = self.w.tensor::<f32>(&name)?;
        let dims = t.shape().to_vec();
        t.into_dimensionality::<D>().map_err(|_| {
            Error::format(
                format!("{}: tensor '{name}'", self.describe()),
                format!(
                    "has shape {dims:?} ({} dims); a {} {suffix} has {}",
                    dims.len(),
                    self.ty,
                    D::NDIM.map_or("any number of".into(), |n| n.to_string())
                ),
            )
        })
    }

    fn weight<D: ndarray::Dimension>(&self) -> Result<ndarray::Array<f32, D>> {
        self.tensor("weight")
    }

    fn bias(&self) -> Result<Option<Array1<f32>>> {
        self.optional("bias")
    }

    fn optional(&self, suffix: &str) -> Result<Option<Array1<f32>>> {
        self.has(suffix)
            .then(|| self.tensor::<Ix1>(suffix))
            .transpose()
    }
}

fn conv2d(e: &Entry<'_>) -> Result<Conv2d<f32>> {
    let padding = match e.ints("padding", vec![0])?.as_slice() {
        [p] => [*p; 4],
        [p, q] => [*p, *q, *p, *q],
        [a, b, c, d] => [*a, *b, *c, *d],
        other => {
            return Err(Error::format(
                e.ctx("padding"),
                format!("expected 1, 2 or 4 values, got {other:?}"),
            ))
        }
    };
    let cfg = Conv2dConfig {
        stride: e.two("stride", 1)?,
        dilation: e.two("dilation", 1)?,
        padding,
        groups: e.one("groups", 1)?,
    };
    Conv2d::new(e.weight::<Ix4>()?, e.bias()?, cfg)
}

fn conv1d(e: &Entry<'_>) -> Result<Conv1d<f32>> {
    let padding = match e.ints("padding", vec![0])?.as_slice() {
        [p] => [*p, *p],
        [p, q] => [*p, *q],
        other => {
            return Err(Error::format(
                e.ctx("padding"),
                format!("expected 1 or 2 values, got {other:?}"),
            ))
        }
    };
    let cfg = Conv1dConfig {
        stride: e.one("stride", 1)?,
        dilation: e.one("dilation", 1)?,
        padding,
        groups: e.one("groups", 1)?,
    };
    Conv1d::new(e.weight::<Ix3>()?, e.bias()?, cfg)
}

fn batchnorm(e: &Entry<'_>) -> Result<BatchNorm<f32>> {
    BatchNorm::new(
        e.tensor::<Ix1>("running_mean")?,
        e.tensor::<Ix1>("running_var")?,
        e.l["eps"].as_f64().unwrap_or(1e-5),
        e.optional("weight")?,
        e.bias()?,
    )
}

fn avgpool2d(e: &Entry<'_>) -> Result<AvgPool2d> {
    let k = e.two("kernel_size", 1)?;
    let [ph, pw] = e.two("padding", 0)?;
    let cfg = AvgPool2dConfig {
        stride: if e.l["stride"].is_null() {
            None
        } else {
            Some(e.two("stride", 1)?)
        },
        padding: [ph, pw, ph, pw],
        ceil_mode: e.l["ceil_mode"].as_bool().unwrap_or(false),
        count_include_pad: e.l["count_include_pad"].as_bool().unwrap_or(true),
    };
    AvgPool2d::new(k, cfg)
}

fn pad(e: &Entry<'_>) -> Result<Pad<f32>> {
    let p = match e.ints("padding", vec![0])?.as_slice() {
        [p] => [*p; 4],
        [l, r, t, b] => [*t, *l, *b, *r],
        other => {
            return Err(Error::format(
                e.ctx("padding"),
                format!("expected 1 or 4 values (left, right, top, bottom), got {other:?}"),
            ))
        }
    };
    Pad::new(
        p,
        PadMode::Constant(e.l["value"].as_f64().unwrap_or(0.0) as f32),
    )
}
