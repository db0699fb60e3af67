//! What a model or a run costs: parameters, and multiply-adds per sample ([`crate::cost::macs`] per layer,
//! the additions of every sum).

use crate::graph::{Model, Op, Src};
use crate::{cost, Result, Scalar, Shape};

/// Parameters and multiply-adds per sample of a model; nodes whose shape is not known cost nothing here.
pub(crate) fn model_cost<T: Scalar>(m: &Model<T>) -> Result<(usize, u64)> {
    let shapes = m.value_shapes()?;
    let shape = |s: Src| match s {
        Src::Input => Some(m.input_shape()),
        Src::Node(i) => shapes[i],
    };
    let mut macs = 0u64;
    for (k, node) in m.nodes().iter().enumerate() {
        let add = match &node.op {
            Op::Layer(l) => match shape(node.inputs[0]) {
                Some(input) => cost::macs(l, input)?,
                None => 0,
            },
            Op::Add => shapes[k].map_or(0, |s: Shape| cost::add_macs(node.inputs.len(), s)),
            Op::Concat { .. } | Op::Nonlinear(_) => 0,
        };
        macs = macs.saturating_add(add);
    }
    Ok((m.num_params(), macs))
}
