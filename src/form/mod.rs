//! The smallest exact form of a linear run, and [`collapse_model`]: every maximal linear run of a model
//! replaced by it.
//!
//! For each run ([`crate::graph`] finds them) the candidates are one convolution (composed node by node,
//! folding BatchNorm, zero pads and average pools into it; exact or refused with a reason), the dense
//! Linear and an exact low-rank pair ([`crate::compose`] multiplies the maps). Each is checked against the
//! run with the independent reference and costed from the layers' structure, and the smallest is kept
//! under the [`Policy`](crate::Policy).

mod check;
mod choose;
mod conv;
mod cost;
mod fold;
mod report;

pub(crate) use choose::Mode;
pub use report::{Form, RunReport};

use std::collections::BTreeMap;

use crate::graph::{linear_runs, Model, Node, Op, Run, Src};
use crate::{Options, Result, Scalar, Shape};
use choose::smallest;

/// Replaces every maximal linear run of `model` (nodes between nonlinearities, branches included) by its
/// smallest exact form: one Conv2d where that is exact, else the cheapest of the dense Linear, an exact
/// low-rank pair of Linears, and the run as it was. Nonlinear nodes are kept.
///
/// # Errors
/// [`crate::Error::Shape`] when the model's shapes do not fit; [`crate::Error::TooLarge`] when a Linear
/// form would exceed the memory budget.
///
/// ```
/// use linear_collapse::form::{collapse_model, Form};
/// use linear_collapse::graph::{Model, Nonlinear, Op};
/// use linear_collapse::layer::{Layer, Linear};
/// use linear_collapse::{Options, Shape};
/// use ndarray::Array2;
/// let fc = |o: usize, i: usize| Op::Layer(Layer::Linear(Linear::new(Array2::<f64>::eye(o.max(i)).slice_move(ndarray::s![..o, ..i]), None).unwrap()));
/// let m = Model::sequential(Shape::flat(8), vec![fc(8, 8), fc(4, 8), Op::Nonlinear(Nonlinear::Relu), fc(2, 4)])?;
/// let (small, reports) = collapse_model(&m, &Options::default())?;
/// assert_eq!(small.nodes().len(), 3); // Linear(8 -> 4), ReLU, Linear(4 -> 2)
/// assert_eq!(reports[0].form, Form::Linear);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn collapse_model<T: Scalar>(
    model: &Model<T>,
    opts: &Options,
) -> Result<(Model<T>, Vec<RunReport>)> {
    let runs = collapse_runs(model, opts, Mode::Build)?;
    let mut replace: BTreeMap<usize, (Run, Vec<Op<T>>)> = BTreeMap::new();
    let mut reports = Vec::new();
    for c in runs {
        reports.push(c.report);
        if let Some(ops) = c.ops {
            replace.insert(c.run.exit, (c.run, ops));
        }
    }
    let dropped: std::collections::BTreeSet<usize> = replace
        .values()
        .flat_map(|(r, _)| r.nodes.iter().copied())
        .collect();
    let mut out = Model::new(model.input_shape());
    let mut map: Vec<Option<Src>> = vec![None; model.nodes().len()];
    let remap = |map: &Vec<Option<Src>>, s: Src| match s {
        Src::Input => Src::Input,
        Src::Node(i) => map[i].expect("nodes come in topological order"),
    };
    for (k, node) in model.nodes().iter().enumerate() {
        if let Some((run, ops)) = replace.get(&k) {
            let mut cur = remap(&map, run.entry);
            for (j, op) in ops.iter().enumerate() {
                cur = out.push(format!("{}.collapsed{j}", node.name), op.clone(), vec![cur])?;
            }
            map[k] = Some(cur);
        } else if !dropped.contains(&k) {
            let inputs = node.inputs.iter().map(|s| remap(&map, *s)).collect();
            map[k] = Some(out.push(node.name.clone(), node.op.clone(), inputs)?);
        }
    }
    Ok((out, reports))
}

/// One linear run of a model and what it collapses to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Replacement<T> {
    /// The run: its nodes, entry and exit.
    pub(crate) run: Run,
    /// The replacement, applied in order to the entry (`None`: keep the run, or planned only).
    pub(crate) ops: Option<Vec<Op<T>>>,
    /// What was decided and why.
    pub(crate) report: RunReport,
}

/// Every maximal linear run of `model` with its smallest exact form (built, or in [`Mode::Plan`] only
/// planned), without rebuilding the model: what file writers need to replace runs in place. Single
/// layers are skipped.
pub(crate) fn collapse_runs<T: Scalar>(
    model: &Model<T>,
    opts: &Options,
    mode: Mode,
) -> Result<Vec<Replacement<T>>> {
    let shapes = model.value_shapes()?;
    let mut out = Vec::new();
    for found in linear_runs(model) {
        let Ok(run) = found else { continue };
        if run.nodes.len() < 2 && !matches!(model.nodes()[run.exit].op, Op::Add | Op::Concat { .. })
        {
            continue; // a single layer is already one layer
        }
        let sub = submodel(model, &shapes, &run)?;
        let names: Vec<String> = run
            .nodes
            .iter()
            .map(|&k| model.nodes()[k].name.clone())
            .collect();
        // One run that cannot collapse (memory budget, an unsupported combination) is kept with its
        // reason; the rest of the model still collapses.
        let (ops, report) = match smallest(&sub, names.clone(), opts, mode) {
            Ok(found) => found,
            Err(e) => (None, kept(&sub, names, format!("kept as it is: {e}"))?),
        };
        out.push(Replacement { run, ops, report });
    }
    Ok(out)
}

/// The report of a run left as it was, and why.
pub(crate) fn kept<T: Scalar>(
    sub: &Model<T>,
    nodes: Vec<String>,
    why: String,
) -> Result<RunReport> {
    let shapes = sub.shapes()?;
    let (params, macs) = cost::model_cost(sub)?;
    Ok(RunReport {
        nodes,
        shapes: (
            sub.input_shape(),
            *shapes.last().unwrap_or(&sub.input_shape()),
        ),
        form: Form::Unchanged,
        why,
        params: (params, params),
        macs: (macs, macs),
        max_error: None,
    })
}

/// The run as a model of its own, its entry as the input.
fn submodel<T: Scalar>(model: &Model<T>, shapes: &[Option<Shape>], run: &Run) -> Result<Model<T>> {
    let entry_shape = match run.entry {
        Src::Input => model.input_shape(),
        Src::Node(i) => shapes[i].ok_or_else(|| {
            crate::Error::invalid(
                format!("node '{}'", model.nodes()[i].name),
                "a linear run reads it but its shape is not known",
            )
        })?,
    };
    let local: BTreeMap<usize, usize> =
        run.nodes.iter().enumerate().map(|(j, &k)| (k, j)).collect();
    let mut sub = Model::new(entry_shape);
    for &k in &run.nodes {
        let Node { name, op, inputs } = &model.nodes()[k];
        let inputs = inputs
            .iter()
            .map(|s| match s {
                s if *s == run.entry => Src::Input,
                Src::Node(i) => Src::Node(local[i]),
                Src::Input => Src::Input,
            })
            .collect();
        sub.push(name.clone(), op.clone(), inputs)?;
    }
    Ok(sub)
}
