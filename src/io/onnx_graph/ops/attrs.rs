//! Errors that name the node, and the checked reading of window attributes shared by the mappers.

use super::Ctx;
use crate::io::onnx::{attr_ints, attr_string, NodeProto};
use crate::io::onnx_graph::analyze::explicit_pads;
use crate::{Error, Result};

/// An invalid layer built from `node`, naming it.
pub(in crate::io::onnx_graph) fn node_err(node: &NodeProto, err: Error) -> Error {
    match err {
        Error::InvalidLayer { layer, reason } if layer.is_empty() => Error::InvalidLayer {
            layer: context(node),
            reason,
        },
        other => Error::InvalidLayer {
            layer: context(node),
            reason: other.to_string(),
        },
    }
}

fn context(node: &NodeProto) -> String {
    format!("ONNX node '{}' ({})", node.name, node.op_type)
}

/// The geometry of a window op (conv or pool) over `spatial` input sizes with kernel `kernel`: strides,
/// dilations and explicit pads `[begin..., end...]` (from `pads` or `auto_pad`).
pub(super) struct Window {
    pub(super) strides: Vec<usize>,
    pub(super) dilations: Vec<usize>,
    pub(super) pads: Vec<usize>,
}

impl Window {
    /// Reads the window attributes of `ctx`'s node.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] naming the node when an attribute has the wrong length or an entry out of
    /// range.
    pub(super) fn read(ctx: &Ctx<'_, '_, '_>, spatial: &[usize], kernel: &[usize]) -> Result<Self> {
        let node = ctx.node;
        let k = spatial.len();
        let strides = per_axis(node, "strides", k)?;
        let dilations = per_axis(node, "dilations", k)?;
        let extent: Vec<usize> = (0..k)
            .map(|a| {
                dilations[a]
                    .saturating_mul(kernel[a].saturating_sub(1))
                    .saturating_add(1)
            })
            .collect();
        let auto = attr_string(node, "auto_pad")?.unwrap_or("NOTSET");
        let pads = explicit_pads(auto, attr_ints(node, "pads")?, spatial, &extent, &strides)
            .map_err(|e| ctx.invalid(e))?;
        Ok(Window {
            strides,
            dilations,
            pads,
        })
    }

    /// The 2-d pads `[top, left, bottom, right]`.
    pub(super) fn quad(&self) -> [usize; 4] {
        [self.pads[0], self.pads[1], self.pads[2], self.pads[3]]
    }
}

/// `k` entries of attribute `name`, each at least 1 (all 1 when absent).
fn per_axis(node: &NodeProto, name: &str, k: usize) -> Result<Vec<usize>> {
    match attr_ints(node, name)? {
        None => Ok(vec![1; k]),
        Some(v) if v.len() == k => v
            .iter()
            .map(|&x| {
                usize::try_from(x).ok().filter(|&x| x >= 1).ok_or_else(|| {
                    node_err(
                        node,
                        Error::invalid("", format!("{name} has {x}; each must be at least 1")),
                    )
                })
            })
            .collect(),
        Some(v) => Err(node_err(
            node,
            Error::invalid(
                "",
                format!("{name} has {} values; {k} spatial axes need {k}", v.len()),
            ),
        )),
    }
}
