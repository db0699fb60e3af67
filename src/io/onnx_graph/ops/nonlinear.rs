//! The boundaries: ops that are not linear, as the model's [`Nonlinear`] (the ones the reference runs by
//! name, every other one as `Other` with its output shape).

use ndarray::Ix1;

use crate::io::onnx::{attr_float, attr_int, attr_ints, attr_string, NodeProto};
use crate::layer::{Geometry2d, Nonlinear};
use crate::{Result, Shape};

/// The nonlinearity of `node` reading `inputs` runtime values, with output shape `output` (`None`: not
/// known, or not a batched value).
///
/// # Errors
/// When an attribute has the wrong type.
pub(in crate::io::onnx_graph) fn nonlinear(
    node: &NodeProto,
    inputs: usize,
    output: Option<Shape>,
) -> Result<Nonlinear> {
    let other = || Nonlinear::Other {
        name: node.op_type.clone(),
        output,
    };
    if inputs != 1 || node.output.len() != 1 {
        return Ok(other());
    }
    Ok(match node.op_type.as_str() {
        "Relu" => Nonlinear::Relu,
        "LeakyRelu" => Nonlinear::LeakyRelu(attr_float(node, "alpha")?.unwrap_or(0.01) as f64),
        "Gelu" if attr_string(node, "approximate")?.unwrap_or("none") == "none" => Nonlinear::Gelu,
        "Sigmoid" => Nonlinear::Sigmoid,
        "Tanh" => Nonlinear::Tanh,
        "Softmax"
            if matches!(output, Some(Shape::Flat(_)))
                && attr_int(node, "axis")?.is_none_or(|a| a == -1 || a == 1) =>
        {
            Nonlinear::Softmax
        }
        "MaxPool" => match pool_geometry(node)? {
            Some(g) => Nonlinear::MaxPool2d(g),
            None => other(),
        },
        _ => other(),
    })
}

/// The geometry of a 2-d `MaxPool` with explicit pads and `ceil_mode` 0, `None` otherwise.
fn pool_geometry(node: &NodeProto) -> Result<Option<Geometry2d>> {
    let auto = attr_string(node, "auto_pad")?.unwrap_or("NOTSET");
    if attr_int(node, "ceil_mode")?.unwrap_or(0) != 0 || !matches!(auto, "NOTSET" | "VALID") {
        return Ok(None);
    }
    let two = |name: &str, default: usize| -> Result<Option<[usize; 2]>> {
        Ok(match attr_ints(node, name)? {
            None => Some([default; 2]),
            Some(&[a, b]) => usize::try_from(a)
                .ok()
                .zip(usize::try_from(b).ok())
                .map(|(a, b)| [a, b]),
            Some(_) => None,
        })
    };
    let pads = match attr_ints(node, "pads")? {
        None => Some([0; 4]),
        Some(p) => ndarray::ArrayView::<i64, Ix1>::from(p)
            .iter()
            .map(|&v| usize::try_from(v).ok())
            .collect::<Option<Vec<usize>>>()
            .and_then(|v| <[usize; 4]>::try_from(v).ok()),
    };
    Ok(
        match (
            two("kernel_shape", 0)?,
            two("strides", 1)?,
            two("dilations", 1)?,
            pads,
        ) {
            (Some(kernel), Some(stride), Some(dilation), Some(padding))
                if !kernel.contains(&0) && !stride.contains(&0) && !dilation.contains(&0) =>
            {
                Some(Geometry2d {
                    kernel,
                    stride,
                    dilation,
                    padding,
                })
            }
            _ => None,
        },
    )
}
