//! A piece's forms: planned from the shapes (one convolution where composing is exact, else the dense
//! Linear or a low-rank pair bounded by the piece's narrowest value), then built and checked.

use super::check::{conv_error, last_axis_error, max_difference, tolerance};
use super::conv;
use super::cost::model_cost;
use super::fold;
use super::last_axis::{last_axis_map, LastMap};
use super::report::Form;
use crate::compose::compose_graph;
use crate::graph::{Model, Op};
use crate::layer::{Conv2d, Flatten, Layer, Linear, Reshape};
use crate::memory::matrix_bytes;
use crate::{cost, Options, Result, Scalar, Shape};
use std::sync::Arc;

/// A planned form of a piece.
#[derive(Clone, Debug)]
pub(crate) struct Candidate<T> {
    /// One convolution, or a Linear (dense or through rank at most `rank`).
    pub(crate) kind: Kind<T>,
    pub(crate) form: Form,
    /// Parameters and multiply-adds per sample (the low-rank pair at its rank bound).
    pub(crate) params: usize,
    pub(crate) macs: u64,
    /// False when no form fits (the dense Linear over the memory budget and no conv).
    pub(crate) feasible: bool,
    /// Why this form and not a smaller one.
    pub(crate) why: String,
}

/// What a planned form is.
#[derive(Clone, Debug)]
pub(crate) enum Kind<T> {
    Conv(Box<Conv2d<T>>),
    /// One Linear over the last axis, applied at every position.
    Last,
    Linear {
        rank: usize,
    },
    None,
}

/// The planned forms of a piece from `input` to `output` whose convolution form is `conv` and whose rank
/// is at most `rank_bound`: the convolution (when there is one) and the Linear or low-rank pair.
pub(crate) fn plan<T: Scalar>(
    conv: std::result::Result<&Conv2d<T>, &String>,
    last: Option<&Arc<LastMap<T>>>,
    input: Shape,
    output: Shape,
    rank_bound: usize,
    opts: &Options,
) -> Vec<Candidate<T>> {
    let positions = |l: &LastMap<T>| (output.numel() / l.out_features().max(1)) as u64;
    let last = last.map(|l| Candidate {
        form: Form::Linear,
        params: l.num_params(),
        macs: positions(l).saturating_mul((l.in_features() * l.out_features()) as u64),
        feasible: true,
        why: format!(
            "the run is one Linear({}->{}) over the last axis, at every position",
            l.in_features(),
            l.out_features()
        ),
        kind: Kind::Last,
    });
    let conv_why = match conv {
        Ok(c) => format!("one convolution, {}, costs more", c.describe()),
        Err(why) => format!("no conv form: {why}"),
    };
    let linear = linear_plan(input, output, rank_bound, opts, conv_why);
    let Ok(c) = conv else {
        return [Some(linear)].into_iter().chain([last]).flatten().collect();
    };
    let c = conv::most_groups(c.clone());
    let conv = Candidate {
        form: Form::Conv2d,
        params: c.num_params(),
        macs: cost::macs(&Layer::Conv2d(c.clone()), input).unwrap_or(u64::MAX),
        feasible: true,
        why: format!("the run is one convolution, {}", c.describe()),
        kind: Kind::Conv(Box::new(c)),
    };
    [Some(conv), Some(linear), last]
        .into_iter()
        .flatten()
        .collect()
}

/// The dense Linear from `input` to `output`, or a low-rank pair through at most `rank_bound` when that
/// has fewer parameters; infeasible when the dense matrix would not fit the memory budget.
fn linear_plan<T: Scalar>(
    input: Shape,
    output: Shape,
    rank_bound: usize,
    opts: &Options,
    conv_why: String,
) -> Candidate<T> {
    let (n_in, n_out) = (input.numel(), output.numel());
    let dense = (
        n_out.saturating_mul(n_in).saturating_add(n_out),
        n_out.saturating_mul(n_in) as u64,
    );
    let r = rank_bound.min(n_in).min(n_out);
    let low = (
        r.saturating_mul(n_in + n_out).saturating_add(n_out),
        r.saturating_mul(n_in + n_out) as u64,
    );
    if matrix_bytes(n_out, n_in, size_of::<T>()) > opts.memory_budget {
        return Candidate {
            kind: Kind::None,
            form: Form::Unchanged,
            params: usize::MAX,
            macs: u64::MAX,
            feasible: false,
            why: format!("{conv_why}; its {n_out}x{n_in} Linear would not fit the memory budget"),
        };
    }
    let (form, (params, macs)) = if low.0 < dense.0 {
        (Form::LowRank(r), low)
    } else {
        (Form::Linear, dense)
    };
    Candidate {
        kind: Kind::Linear { rank: r },
        form,
        params,
        macs,
        feasible: true,
        why: conv_why,
    }
}

/// A built form: its ops, what it became, its cost and its checked error.
pub(crate) struct Built<T> {
    pub(crate) ops: Vec<Op<T>>,
    pub(crate) form: Form,
    pub(crate) params: usize,
    pub(crate) macs: u64,
    pub(crate) max_error: f64,
    pub(crate) why: String,
}

/// Builds the planned form of the piece `sub` and checks it against the piece.
///
/// # Errors
/// When composing fails (memory budget, a non-finite product) or the built form is not exact (the
/// message says by how much).
pub(crate) fn build<T: Scalar>(
    sub: &Model<T>,
    c: &Candidate<T>,
    opts: &Options,
) -> Result<Built<T>> {
    let input = sub.input_shape();
    let output = *sub.shapes()?.last().expect("a piece has nodes");
    let (ops, form, why) = match &c.kind {
        Kind::Conv(conv) => (
            vec![Op::Layer(Layer::Conv2d((**conv).clone()))],
            Form::Conv2d,
            c.why.clone(),
        ),
        Kind::Linear { rank } => {
            let (n_in, n_out) = (input.numel(), output.numel());
            let fc = compose_graph(sub, opts)?;
            let low = |r: usize| r * (n_in + n_out) < n_in * n_out;
            // the SVD only when a low rank could win
            let factors = if low(*rank) {
                fold::low_rank(fc.weight())?
            } else {
                None
            };
            let (form, core, why) = match factors {
                Some((a, b, r)) if low(r) => {
                    let [l1, l2] = fold::low_rank_layers(a, b, fc.bias().cloned())?;
                    let why = format!("the collapsed {n_out}x{n_in} weight has rank {r}, so two Linears are cheaper; {}", c.why);
                    (
                        Form::LowRank(r),
                        vec![Op::Layer(Layer::Linear(l1)), Op::Layer(Layer::Linear(l2))],
                        why,
                    )
                }
                _ => (
                    Form::Linear,
                    vec![Op::Layer(Layer::Linear(Linear::new(
                        fc.weight().clone(),
                        fc.bias().cloned(),
                    )?))],
                    c.why.clone(),
                ),
            };
            (reshaped(input, output, core)?, form, why)
        }
        Kind::Last => (
            vec![Op::Layer(Layer::Linear(last_axis_map(sub)?))],
            Form::Linear,
            c.why.clone(),
        ),
        Kind::None => {
            return Err(crate::Error::Unsupported {
                op_type: "run".into(),
                detail: c.why.clone(),
            })
        }
    };
    let replacement = Model::sequential(input, ops.clone())?;
    let (err, tol) = match &c.kind {
        Kind::Conv(conv) => conv_error(sub, conv)?,
        Kind::Last => last_axis_error(sub, &ops)?,
        _ => (max_difference(sub, &replacement)?, tolerance::<T>(sub)?),
    };
    if err > tol {
        return Err(crate::Error::invalid(
            "collapsed form",
            format!(
                "it differs from the run by {err:.1e} (tolerance {tol:.1e}), so it is not used"
            ),
        ));
    }
    let (params, macs) = model_cost(&replacement)?;
    Ok(Built {
        ops,
        form,
        params,
        macs,
        max_error: err,
        why,
    })
}

/// `core` (Linears on flat vectors) with a Flatten before an image-shaped input and a Reshape back to an
/// image-shaped output; between `(C, 1, 1)` images one Linear is a 1x1 convolution, and is spelled so.
fn reshaped<T: Scalar>(input: Shape, output: Shape, core: Vec<Op<T>>) -> Result<Vec<Op<T>>> {
    if let (
        Shape::Chw { h: 1, w: 1, .. },
        Shape::Chw { c, h: 1, w: 1 },
        [Op::Layer(Layer::Linear(l))],
    ) = (input, output, core.as_slice())
    {
        let w = l
            .weight()
            .clone()
            .into_shape_with_order((c, l.in_features(), 1, 1));
        let w = w.map_err(|e| crate::Error::invalid("1x1 convolution", e.to_string()))?;
        let conv = Conv2d::new(w, l.bias().cloned(), Default::default())?;
        return Ok(vec![Op::Layer(Layer::Conv2d(conv))]);
    }
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
