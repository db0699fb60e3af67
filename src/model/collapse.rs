//! `collapse_model`: every maximal linear run of a model replaced by its smallest exact form.

use std::collections::BTreeMap;
use std::fmt;

use super::runs::{linear_runs, Run};
use super::{eval, Model, Node, Op, Src};
use crate::compose::collapse_graph;
use crate::fold::{self, conv::Why};
use crate::layer::{Flatten, Layer, Linear, Reshape};
use crate::rng::SplitMix64;
use crate::{lower, Options, Result, Scalar, Shape};

/// What a run became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// Left as it was (collapsing would not make it smaller, or it cannot collapse).
    Unchanged,
    /// One convolution.
    Conv2d,
    /// One dense Linear.
    Linear,
    /// Two Linears through the exact rank `r`.
    LowRank(usize),
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Form::Unchanged => f.write_str("unchanged"),
            Form::Conv2d => f.write_str("Conv2d"),
            Form::Linear => f.write_str("Linear"),
            Form::LowRank(r) => write!(f, "Linear x2 (rank {r})"),
        }
    }
}

/// Whether a run whose smallest collapsed form is larger than the run itself is collapsed anyway.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Replace every run by its cheapest single form (one conv, one Linear, or a low-rank pair), and say in
    /// the report when that form has more parameters than the run had.
    #[default]
    Collapse,
    /// Keep a run as it is when every collapsed form has more parameters.
    KeepIfLarger,
}

/// One run of [`collapse_model`]'s result.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// Names of the nodes in the run.
    pub nodes: Vec<String>,
    /// Input and output shapes of the run.
    pub shapes: (Shape, Shape),
    /// What it became.
    pub form: Form,
    /// Why this form (and not a smaller one), in one sentence.
    pub why: String,
    /// Parameters before and after.
    pub params: (usize, usize),
    /// Multiply-adds per sample before and after.
    pub macs: (u64, u64),
    /// Largest absolute difference between the new and the original run on random inputs (reference
    /// forward passes in `f64`).
    pub max_error: f64,
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} -> {}: {} ({}); params {} -> {}, MACs {} -> {}, max error {:.2e}",
            self.nodes.join(", "),
            self.shapes.0,
            self.shapes.1,
            self.form,
            self.why,
            self.params.0,
            self.params.1,
            self.macs.0,
            self.macs.1,
            self.max_error
        )
    }
}

/// Replaces every maximal linear run of `model` (nodes between nonlinearities, branches included) by its
/// smallest exact form: one Conv2d where that is exact, else the cheapest of the dense Linear, an exact
/// low-rank pair of Linears, and the run as it was. Nonlinear nodes are kept.
///
/// # Errors
/// [`crate::Error::Shape`] when the model's shapes do not fit; [`crate::Error::TooLarge`] when a Linear
/// form would exceed the memory budget.
///
/// ```
/// use linear_collapse::model::{collapse_model, Form, Model, Nonlinear, Op};
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
    collapse_model_with(model, opts, Policy::default())
}

/// [`collapse_model`] with an explicit [`Policy`].
///
/// # Errors
/// As [`collapse_model`].
pub fn collapse_model_with<T: Scalar>(
    model: &Model<T>,
    opts: &Options,
    policy: Policy,
) -> Result<(Model<T>, Vec<RunReport>)> {
    let runs = collapse_runs(model, opts, policy)?;
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
pub struct CollapsedRun<T> {
    /// Indices of the run's nodes in the model, in order.
    pub nodes: Vec<usize>,
    /// The value the run reads.
    pub entry: Src,
    /// The node whose output leaves the run.
    pub exit: usize,
    /// The replacement, applied in order to the entry (`None`: keep the run).
    pub ops: Option<Vec<Op<T>>>,
    /// What was decided and why.
    pub report: RunReport,
    run: Run,
}

/// Every maximal linear run of `model` with its smallest exact form, without rebuilding the model: what
/// file writers (ONNX) need to replace runs in place. Single layers are skipped.
///
/// # Errors
/// As [`collapse_model`].
pub fn collapse_runs<T: Scalar>(
    model: &Model<T>,
    opts: &Options,
    policy: Policy,
) -> Result<Vec<CollapsedRun<T>>> {
    model.shapes()?;
    let mut out = Vec::new();
    for found in linear_runs(model) {
        let Ok(run) = found else { continue };
        if run.nodes.len() < 2 && !matches!(model.nodes()[run.exit].op, Op::Add | Op::Concat) {
            continue; // a single layer is already one layer
        }
        let sub = submodel(model, &run)?;
        let (ops, report) = smallest(&sub, opts, &run, model, policy)?;
        out.push(CollapsedRun {
            nodes: run.nodes.clone(),
            entry: run.entry,
            exit: run.exit,
            ops,
            report,
            run,
        });
    }
    Ok(out)
}

/// The run as a model of its own, its entry as the input.
fn submodel<T: Scalar>(model: &Model<T>, run: &Run) -> Result<Model<T>> {
    let shapes = model.shapes()?;
    let entry_shape = match run.entry {
        Src::Input => model.input_shape(),
        Src::Node(i) => shapes[i],
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

/// Multiply-adds of one sample through a layer: stored entries of its matrix.
fn layer_macs<T: Scalar>(layer: &Layer<T>, input: Shape) -> Result<u64> {
    Ok(match layer {
        Layer::Linear(l) => (l.in_features() * l.out_features()) as u64,
        other => match lower::lower(other, input)?.matrix {
            crate::matrix::Matrix::Sparse(s) => s.nnz() as u64,
            crate::matrix::Matrix::Dense(d) => d.len() as u64,
            crate::matrix::Matrix::Identity(_) => 0,
        },
    })
}

fn model_cost<T: Scalar>(m: &Model<T>) -> Result<(usize, u64)> {
    let shapes = m.shapes()?;
    let mut macs = 0;
    for node in m.nodes() {
        if let Op::Layer(l) = &node.op {
            let input = match node.inputs[0] {
                Src::Input => m.input_shape(),
                Src::Node(i) => shapes[i],
            };
            macs += layer_macs(l, input)?;
        }
    }
    Ok((m.num_params(), macs))
}

/// The smallest exact replacement of the run `sub` (`None`: keep it), and its report.
fn smallest<T: Scalar>(
    sub: &Model<T>,
    opts: &Options,
    run: &Run,
    model: &Model<T>,
    policy: Policy,
) -> Result<(Option<Vec<Op<T>>>, RunReport)> {
    let input = sub.input_shape();
    let output = *sub.shapes()?.last().expect("a run has nodes");
    let before = model_cost(sub)?;
    let names: Vec<String> = run
        .nodes
        .iter()
        .map(|&k| model.nodes()[k].name.clone())
        .collect();
    let report = |form, why: String, ops: &[Op<T>]| -> Result<RunReport> {
        let replacement = Model::sequential(input, ops.to_vec())?;
        Ok(RunReport {
            nodes: names.clone(),
            shapes: (input, output),
            form,
            why,
            params: (before.0, replacement.num_params()),
            macs: (before.1, model_cost(&replacement)?.1),
            max_error: max_difference(sub, &replacement)?,
        })
    };
    // 1. One convolution, where exact.
    let conv_why: Why = match fold::conv_form(sub) {
        Ok(conv) => {
            let ops = vec![Op::Layer(Layer::Conv2d(conv))];
            let r = report(Form::Conv2d, String::new(), &ops)?;
            if r.max_error <= tolerance::<T>(sub)? {
                let why = format!(
                    "the run is one convolution ({} parameters instead of {})",
                    r.params.1, r.params.0
                );
                return Ok((Some(ops), RunReport { why, ..r }));
            }
            format!(
                "the composed convolution differs from the run by {:.1e}, so it is not used",
                r.max_error
            )
        }
        Err(why) => why,
    };
    // 2. The dense Linear, or its exact low-rank factorisation, or nothing.
    let fc = collapse_graph(sub, opts)?;
    let (n_out, n_in) = fc.weight().dim();
    let flatten: Vec<Op<T>> = match input {
        Shape::Flat(_) => vec![],
        _ => vec![Op::Layer(Layer::Flatten(Flatten))],
    };
    let dense_params = n_out * n_in + n_out;
    let (form, why, core) = match fold::low_rank(fc.weight())? {
        Some((a, b, r)) if r * (n_in + n_out) + n_out < dense_params => {
            let [l1, l2] = fold::low_rank_layers(a, b, fc.bias().cloned())?;
            (
                Form::LowRank(r),
                format!("the collapsed {n_out}x{n_in} weight has rank {r}, so two Linears are cheaper; no conv form: {conv_why}"),
                vec![Op::Layer(Layer::Linear(l1)), Op::Layer(Layer::Linear(l2))],
            )
        }
        _ => (
            Form::Linear,
            format!("no conv form: {conv_why}"),
            vec![Op::Layer(Layer::Linear(Linear::new(
                fc.weight().clone(),
                fc.bias().cloned(),
            )?))],
        ),
    };
    // An image-shaped output gets its shape back after the Linear.
    let reshape: Vec<Op<T>> = match output {
        Shape::Flat(_) => vec![],
        _ => vec![Op::Layer(Layer::Reshape(Reshape::new(output)?))],
    };
    let ops: Vec<Op<T>> = flatten.into_iter().chain(core).chain(reshape).collect();
    let r = report(form, why, &ops)?;
    let larger = r.params.1 > before.0 && before.0 > 0;
    if larger && policy == Policy::Collapse {
        let why = format!(
            "{}; note: {:.1}x the parameters of the run ({} now)",
            r.why,
            r.params.1 as f64 / before.0 as f64,
            before.0
        );
        return Ok((Some(ops), RunReport { why, ..r }));
    }
    if larger {
        let why = format!(
            "collapsing would not save parameters ({} as {}, {} now); {}",
            r.params.1, r.form, before.0, r.why
        );
        let kept = RunReport {
            form: Form::Unchanged,
            why,
            params: (before.0, before.0),
            macs: (before.1, before.1),
            max_error: 0.0,
            ..r
        };
        return Ok((None, kept));
    }
    Ok((Some(ops), r))
}

/// Largest difference between two models on three random inputs (reference passes in `f64`).
fn max_difference<T: Scalar>(a: &Model<T>, b: &Model<T>) -> Result<f64> {
    let mut rng = SplitMix64::new(7);
    let n = a.input_shape().numel();
    let mut worst = 0.0f64;
    for _ in 0..3 {
        let x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let (ya, yb) = (eval::forward(a, &x)?, eval::forward(b, &x)?);
        for (p, q) in ya.iter().zip(&yb) {
            worst = worst.max((p - q).abs());
        }
    }
    Ok(worst)
}

/// What counts as equal for a form of `sub`: rounding of `T` scaled by the run's size and magnitude.
fn tolerance<T: Scalar>(sub: &Model<T>) -> Result<f64> {
    let n = sub.input_shape().numel().max(1) as f64;
    let scale = sub
        .nodes()
        .iter()
        .filter_map(|nd| match &nd.op {
            Op::Layer(l) => Some(l.cast::<f64>().ok()?),
            _ => None,
        })
        .map(|l| match l {
            Layer::Linear(f) => {
                f.weight().iter().map(|v| v.abs()).fold(0.0, f64::max) * f.in_features() as f64
            }
            Layer::Conv2d(c) => c.weight().iter().map(|v| v.abs()).sum::<f64>() / c.c_out() as f64,
            _ => 1.0,
        })
        .fold(1.0, |acc, s| acc * s.max(1.0));
    Ok(64.0 * T::EPSILON.widen() * n.sqrt() * scale)
}
