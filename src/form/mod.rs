//! The smallest exact form of the linear parts of a model, and [`collapse_model`]: every linear group of a
//! model partitioned into pieces, each replaced by one layer where that costs less.
//!
//! For each linear group ([`crate::graph`] finds them) every range that reads one value and gives one is
//! planned from the shapes: one convolution where composing is exact (folding BatchNorm,
//! per-channel scales, zero pads and average pools, summing branches, keeping every group structure),
//! else the dense Linear or a low-rank pair. The cheapest partition into kept nodes and replaced pieces
//! under the [`Policy`](crate::Policy) wins (by default: never more multiply-adds); each chosen piece is
//! then built ([`crate::compose`] multiplies the maps) and checked against the independent reference.

mod check;
mod choose;
mod conv;
mod cost;
mod fold;
mod last_axis;
mod piece;
mod report;

pub(crate) use cost::model_cost;
pub(crate) use piece::admissible;
pub use report::{table, Form, RunReport, Totals};

use std::collections::BTreeMap;

use crate::graph::{linear_groups, Model, Op, Readers, Run, Src};
use crate::{Options, Result, Scalar, Shape};
use piece::{plan_group, Piece};

/// Build the chosen forms and check them, or only plan them (costs from the shapes, nothing built beyond
/// composed conv kernels, nothing checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Build,
    Plan,
}

/// Replaces the linear parts of `model` (nodes between nonlinearities, branches included) by their
/// smallest exact forms under `opts.policy`: by default each group's cheapest partition into kept nodes and
/// pieces replaced by one Conv2d, one Linear or a low-rank pair of Linears, never costing more
/// multiply-adds than the nodes they replace. Nonlinear nodes are kept.
///
/// # Errors
/// [`crate::Error::Shape`] when the model's shapes do not fit. A piece that cannot be built (the memory
/// budget, an inexact form) is kept and its report says why.
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
    let runs = collapse_runs(model, opts, Mode::Build, &|_| true, &mut |_, _| {})?;
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
    let outputs: Vec<Src> = model.outputs().iter().map(|&s| remap(&map, s)).collect();
    out.set_outputs(outputs)?;
    Ok((out, reports))
}

/// One piece of a model and what replaces it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Replacement<T> {
    /// The piece: its nodes, entry and exit.
    pub(crate) run: Run,
    /// The replacement, applied in order to the entry (`None`: kept, or planned only).
    pub(crate) ops: Option<Vec<Op<T>>>,
    /// What was decided and why.
    pub(crate) report: RunReport,
}

/// Every linear group of `model` (of two nodes or more) planned under `opts`, and in [`Mode::Build`] its
/// chosen pieces built and checked: one replacement per replaced piece, one kept entry per group left as
/// it was. A piece's entry and exit must pass `cuttable` (for a file: a value with a name in it).
///
/// # Errors
/// [`crate::Error::Shape`] when the model's shapes do not fit.
pub(crate) fn collapse_runs<T: Scalar>(
    model: &Model<T>,
    opts: &Options,
    mode: Mode,
    cuttable: &dyn Fn(Src) -> bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Replacement<T>>> {
    let shapes = model.value_shapes()?;
    let readers = Readers::of(model);
    let groups: Vec<Vec<usize>> = linear_groups(model)
        .into_iter()
        .filter(|g| g.len() >= 2)
        .collect();
    let mut out = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        progress(i, groups.len());
        let plan = plan_group(model, &shapes, &readers, group, opts, cuttable)?;
        if plan.chosen.is_empty() {
            out.push(kept_group(model, &shapes, group, plan.kept_why)?);
            continue;
        }
        for chosen in plan.chosen {
            let piece = Piece {
                model,
                shapes: &shapes,
                run: chosen.run,
            };
            out.push(replace(
                &piece,
                &chosen.candidate,
                chosen.before,
                opts,
                mode,
            )?);
        }
    }
    progress(groups.len(), groups.len());
    Ok(out)
}

/// The replacement of one chosen piece: built and checked (or planned only); kept, with the reason, when
/// building fails.
fn replace<T: Scalar>(
    piece: &Piece<'_, T>,
    c: &choose::Candidate<T>,
    before: (usize, u64),
    opts: &Options,
    mode: Mode,
) -> Result<Replacement<T>> {
    let report = |form, why: String, after: (usize, u64), max_error| RunReport {
        nodes: piece.names(),
        ops: piece.ops(),
        shapes: (piece.input(), piece.output()),
        form,
        why,
        params: (before.0, after.0),
        macs: (before.1, after.1),
        max_error,
    };
    if mode == Mode::Plan {
        return Ok(Replacement {
            run: piece.run.clone(),
            ops: None,
            report: report(c.form.clone(), c.why.clone(), (c.params, c.macs), None),
        });
    }
    let built = piece
        .to_model()
        .and_then(|sub| choose::build(&sub, c, opts));
    Ok(match built {
        Ok(b) => Replacement {
            run: piece.run.clone(),
            report: report(b.form, b.why, (b.params, b.macs), Some(b.max_error)),
            ops: Some(b.ops),
        },
        // One piece that cannot collapse (memory budget, an inexact form) is kept with its reason.
        Err(e) => Replacement {
            run: piece.run.clone(),
            ops: None,
            report: report(Form::Unchanged, format!("kept as it is: {e}"), before, None),
        },
    })
}

/// The report of a group left as it was.
fn kept_group<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    group: &[usize],
    why: String,
) -> Result<Replacement<T>> {
    let mut cost = (0usize, 0u64);
    for &k in group {
        let (p, m) = piece::node_cost(model, shapes, k)?;
        cost = (cost.0 + p, cost.1.saturating_add(m));
    }
    let first = model.nodes()[group[0]].inputs[0];
    let input = match first {
        Src::Input => model.input_shape(),
        Src::Node(j) => shapes[j].unwrap_or(model.input_shape()),
    };
    let last = *group.last().expect("a group has nodes");
    let report = RunReport {
        nodes: group
            .iter()
            .map(|&k| model.nodes()[k].name.clone())
            .collect(),
        ops: group
            .iter()
            .map(|&k| model.nodes()[k].op.describe())
            .collect(),
        shapes: (input, shapes[last].unwrap_or(input)),
        form: Form::Unchanged,
        why,
        params: (cost.0, cost.0),
        macs: (cost.1, cost.1),
        max_error: None,
    };
    Ok(Replacement {
        run: Run {
            nodes: group.to_vec(),
            entry: first,
            exit: last,
        },
        ops: None,
        report,
    })
}
