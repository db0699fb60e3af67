//! Choosing a run's form: one convolution where that is exact, else the cheaper of the dense Linear and an
//! exact low-rank pair, else (by [`Policy`]) the run as it was.

use super::check::{max_difference, tolerance};
use super::cost::{layer_macs, model_cost};
use super::fold;
use super::report::{Form, RunReport};
use crate::compose::compose_graph;
use crate::graph::{Model, Op};
use crate::layer::{Flatten, Layer, Linear, Reshape};
use crate::{Options, Policy, Result, Scalar, Shape};

/// Build the chosen form and check it, or only plan it (sizes and costs from the shapes, nothing built
/// beyond a composed conv kernel, nothing checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Build,
    Plan,
}

/// A candidate replacement: its ops (empty when planned only), form, reason, and cost.
struct Candidate<T> {
    ops: Vec<Op<T>>,
    form: Form,
    why: String,
    params: usize,
    macs: u64,
    max_error: Option<f64>,
}

/// The smallest exact replacement of the run `sub` (`None`: keep it, or planned only), and its report.
pub(super) fn smallest<T: Scalar>(
    sub: &Model<T>,
    names: Vec<String>,
    opts: &Options,
    mode: Mode,
) -> Result<(Option<Vec<Op<T>>>, RunReport)> {
    let input = sub.input_shape();
    let output = *sub.shapes()?.last().expect("a run has nodes");
    let before = model_cost(sub)?;
    let report = |c: Candidate<T>| RunReport {
        nodes: names.clone(),
        shapes: (input, output),
        form: c.form,
        why: c.why,
        params: (before.0, c.params),
        macs: (before.1, c.macs),
        max_error: c.max_error,
    };
    let conv_why = match conv_candidate(sub, mode)? {
        Ok(c) => {
            let ops = (mode == Mode::Build).then(|| c.ops.clone());
            return Ok((ops, report(c)));
        }
        Err(why) => why,
    };
    let c = linear_candidate(sub, output, opts, mode, &conv_why)?;
    let larger = c.params > before.0 && before.0 > 0;
    if !larger {
        let ops = (mode == Mode::Build).then(|| c.ops.clone());
        return Ok((ops, report(c)));
    }
    let ratio = c.params as f64 / before.0 as f64;
    if opts.policy == Policy::Collapse {
        let why = format!(
            "{}; note: {ratio:.1}x the parameters of the run ({} now)",
            c.why, before.0
        );
        let ops = (mode == Mode::Build).then(|| c.ops.clone());
        return Ok((ops, report(Candidate { why, ..c })));
    }
    let why = format!(
        "collapsing would not save parameters ({} as {}, {} now); {}",
        c.params, c.form, before.0, c.why
    );
    let kept = Candidate {
        ops: vec![],
        form: Form::Unchanged,
        why,
        params: before.0,
        macs: before.1,
        max_error: Some(0.0),
    };
    Ok((None, report(kept)))
}

/// One convolution equal to the run, checked against it (in [`Mode::Build`]); or why there is none.
fn conv_candidate<T: Scalar>(
    sub: &Model<T>,
    mode: Mode,
) -> Result<std::result::Result<Candidate<T>, String>> {
    let conv = match fold::conv_form(sub) {
        Ok(conv) => conv,
        Err(why) => return Ok(Err(why)),
    };
    let params = conv.num_params();
    let macs = layer_macs(&Layer::Conv2d(conv.clone()), sub.input_shape())?;
    let ops = vec![Op::Layer(Layer::Conv2d(conv))];
    let max_error = match mode {
        Mode::Build => {
            let replacement = Model::sequential(sub.input_shape(), ops.clone())?;
            let err = max_difference(sub, &replacement)?;
            if err > tolerance::<T>(sub)? {
                return Ok(Err(format!(
                    "the composed convolution differs from the run by {err:.1e}, so it is not used"
                )));
            }
            Some(err)
        }
        Mode::Plan => None,
    };
    let why = format!(
        "the run is one convolution ({params} parameters instead of {})",
        sub.num_params()
    );
    Ok(Ok(Candidate {
        ops,
        form: Form::Conv2d,
        why,
        params,
        macs,
        max_error,
    }))
}

/// The dense Linear, or its exact low-rank factorisation where that has fewer parameters; with a Flatten
/// before and a Reshape after where the run's input or output is not flat.
fn linear_candidate<T: Scalar>(
    sub: &Model<T>,
    output: Shape,
    opts: &Options,
    mode: Mode,
    conv_why: &str,
) -> Result<Candidate<T>> {
    let (n_in, n_out) = (sub.input_shape().numel(), output.numel());
    let dense_params = n_out * n_in + n_out;
    let low_rank_params = |r: usize| r * (n_in + n_out) + n_out;
    if mode == Mode::Plan {
        let r = n_in.min(n_out).min(inner_dims(sub)?);
        let (form, params, macs) = if low_rank_params(r) < dense_params {
            (
                Form::LowRank(r),
                low_rank_params(r),
                (r * (n_in + n_out)) as u64,
            )
        } else {
            (Form::Linear, dense_params, (n_in * n_out) as u64)
        };
        let why = format!(
            "planned from the shapes (rank at most {r}; collapsing computes the exact rank); no conv form: {conv_why}"
        );
        return Ok(Candidate {
            ops: vec![],
            form,
            why,
            params,
            macs,
            max_error: None,
        });
    }
    let fc = compose_graph(sub, opts)?;
    let (form, why, core) = match fold::low_rank(fc.weight())? {
        Some((a, b, r)) if low_rank_params(r) < dense_params => {
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
    let ops = reshaped(sub.input_shape(), output, core)?;
    let replacement = Model::sequential(sub.input_shape(), ops.clone())?;
    let (params, macs) = model_cost(&replacement)?;
    Ok(Candidate {
        max_error: Some(max_difference(sub, &replacement)?),
        ops,
        form,
        why,
        params,
        macs,
    })
}

/// `core` (Linears on flat vectors) with a Flatten before an image-shaped input and a Reshape back to an
/// image-shaped output.
fn reshaped<T: Scalar>(input: Shape, output: Shape, core: Vec<Op<T>>) -> Result<Vec<Op<T>>> {
    let flatten = match input {
        Shape::Flat(_) => None,
        _ => Some(Op::Layer(Layer::Flatten(Flatten))),
    };
    let reshape = match output {
        Shape::Flat(_) => None,
        _ => Some(Op::Layer(Layer::Reshape(Reshape::new(output)?))),
    };
    Ok(flatten.into_iter().chain(core).chain(reshape).collect())
}

/// The smallest value a plain chain passes through (its rank bound); a run with branches is bounded by
/// its input and output only.
fn inner_dims<T: Scalar>(sub: &Model<T>) -> Result<usize> {
    let chain = sub.nodes().iter().enumerate().all(|(k, n)| {
        n.inputs.len() == 1 && (k == 0 || n.inputs[0] == crate::graph::Src::Node(k - 1))
    });
    if !chain {
        return Ok(usize::MAX);
    }
    Ok(sub
        .shapes()?
        .iter()
        .map(|s| s.numel())
        .min()
        .unwrap_or(usize::MAX))
}
