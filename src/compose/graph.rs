//! Composing a linear graph (branches: `Add`, `Concat`) by reverse mode over its nodes.
//!
//! Each node gets an adjoint `M_k` (`n_out x n_k`): the output's dependence on that node. Starting from the
//! identity at the output, a layer passes `M A` to its input and adds `M a` to the bias; `Add` passes `M`
//! to every input; `Concat` passes each input its block of columns. The input's adjoint is `W`. For a
//! plain chain this is exactly the reverse order of [`super::collapse`], which the planner handles.

use ndarray::{Array1, Array2, Axis};

use super::im2col;
use crate::graph::{Model, Op, Src};
use crate::layer::{Layer, Linear};
use crate::lower::lower;
use crate::matrix::{gemm, gemv, Matrix};
use crate::memory::{self, matrix_bytes};
use crate::{Accumulate, Error, Method, Options, Result, Scalar, Shape};

/// An adjoint: the identity (at the output) or a dense matrix.
enum Adj<A> {
    Identity(usize),
    Dense(Array2<A>),
}

impl<A: Scalar> Adj<A> {
    fn into_dense(self) -> Array2<A> {
        match self {
            Adj::Identity(n) => Array2::eye(n),
            Adj::Dense(m) => m,
        }
    }
}

/// Composes a model whose nodes are all linear into the one [`Linear`] it equals.
///
/// A plain chain goes through the planner ([`super::collapse`]); a graph with branches through reverse
/// mode over its nodes (convolutions by im2col, other layers by CSR, Linears by GEMM).
///
/// # Errors
/// [`Error::Unsupported`] when a node is nonlinear; [`Error::Shape`] on a shape mismatch;
/// [`Error::TooLarge`] when an adjoint would exceed the memory budget.
///
pub(crate) fn compose_graph<T: Scalar>(model: &Model<T>, opts: &Options) -> Result<Linear<T>> {
    if let Some(chain) = as_chain(model) {
        return super::collapse(&chain, model.input_shape(), opts);
    }
    match opts.accumulate {
        Accumulate::Native => reverse(model, opts),
        Accumulate::F64 => {
            let wide = cast_model::<T, f64>(model)?;
            let fc = reverse(&wide, opts)?;
            let narrow = |x: &f64| T::narrow(*x);
            Linear::new(fc.weight().map(narrow), fc.bias().map(|b| b.map(narrow)))
        }
    }
}

/// The layers of a model that is a plain chain of layers.
fn as_chain<T: Scalar>(model: &Model<T>) -> Option<Vec<Layer<T>>> {
    let mut prev = Src::Input;
    let mut chain = Vec::new();
    for (k, node) in model.nodes().iter().enumerate() {
        match (&node.op, node.inputs.as_slice()) {
            (Op::Layer(l), [s]) if *s == prev => chain.push(l.clone()),
            _ => return None,
        }
        prev = Src::Node(k);
    }
    Some(chain)
}

fn cast_model<T: Scalar, U: Scalar>(model: &Model<T>) -> Result<Model<U>> {
    let mut out = Model::new(model.input_shape());
    for node in model.nodes() {
        let op = match &node.op {
            Op::Layer(l) => Op::Layer(l.cast()?),
            Op::Add => Op::Add,
            Op::Concat { axis } => Op::Concat { axis: *axis },
            Op::Nonlinear(n) => Op::Nonlinear(n.clone()),
        };
        out.push(node.name.clone(), op, node.inputs.clone())?;
    }
    Ok(out)
}

fn reverse<A: Scalar>(model: &Model<A>, opts: &Options) -> Result<Linear<A>> {
    let shapes = model.shapes()?;
    let nodes = model.nodes();
    let shape_of = |s: Src| match s {
        Src::Input => model.input_shape(),
        Src::Node(i) => shapes[i],
    };
    let out_shape = shape_of(model.output());
    let n_out = out_shape.numel();
    let mut adj: Vec<Option<Adj<A>>> = (0..nodes.len()).map(|_| None).collect();
    let mut input_adj: Option<Adj<A>> = None;
    let mut bias = Array1::<A>::zeros(n_out);
    match model.output() {
        Src::Input => input_adj = Some(Adj::Identity(n_out)),
        Src::Node(k) => adj[k] = Some(Adj::Identity(n_out)),
    }
    for k in (0..nodes.len()).rev() {
        let Some(m) = adj[k].take() else { continue };
        let node = &nodes[k];
        let parts: Vec<(Src, Adj<A>)> = match &node.op {
            Op::Layer(layer) => {
                let input = shape_of(node.inputs[0]);
                let (m_in, c) = through_layer(m, layer, input, opts, k)?;
                bias += &c;
                vec![(node.inputs[0], Adj::Dense(m_in))]
            }
            Op::Add => {
                let dense = m.into_dense();
                node.inputs
                    .iter()
                    .map(|s| (*s, Adj::Dense(dense.clone())))
                    .collect()
            }
            Op::Concat { axis } => {
                let dense = m.into_dense();
                let shapes: Vec<Shape> = node.inputs.iter().map(|s| shape_of(*s)).collect();
                concat_columns(&shapes, *axis)
                    .into_iter()
                    .zip(&node.inputs)
                    .map(|(cols, s)| (*s, Adj::Dense(dense.select(Axis(1), &cols))))
                    .collect()
            }
            Op::Nonlinear(_) => {
                return Err(Error::Unsupported {
                    op_type: node.op.describe(),
                    detail: format!(
                        "node '{}' is not linear: collapse each linear run (collapse_model)",
                        node.name
                    ),
                })
            }
        };
        for (src, part) in parts {
            let slot = match src {
                Src::Input => &mut input_adj,
                Src::Node(j) => &mut adj[j],
            };
            *slot = Some(match slot.take() {
                None => part,
                Some(prev) => Adj::Dense(prev.into_dense() + &part.into_dense()),
            });
        }
    }
    let n_in = model.input_shape().numel();
    let w = input_adj.map_or_else(|| Array2::zeros((n_out, n_in)), Adj::into_dense);
    Linear::new(w, Some(bias))
        .map_err(|e| Error::invalid("collapsed graph", format!("the product is not finite: {e}")))
}

/// For each input of a concatenation along `axis`, the output positions its elements land on, in the
/// input's C order: the output is `outer` blocks, each the inputs' slabs one after another.
fn concat_columns(shapes: &[Shape], axis: usize) -> Vec<Vec<usize>> {
    let dims: Vec<Vec<usize>> = shapes.iter().map(Shape::dims).collect();
    let outer: usize = dims[0][..axis].iter().product();
    let inner: usize = dims[0][axis + 1..].iter().product();
    let slabs: Vec<usize> = dims.iter().map(|d| d[axis] * inner).collect();
    let row: usize = slabs.iter().sum();
    let mut before = 0;
    slabs
        .iter()
        .map(|&slab| {
            let cols = (0..outer)
                .flat_map(|o| (0..slab).map(move |j| o * row + before + j))
                .collect();
            before += slab;
            cols
        })
        .collect()
}

/// `(M A, M a)` for layer `(A, a)` at `input`; with the identity adjoint, `(A, a)` itself.
fn through_layer<A: Scalar>(
    m: Adj<A>,
    layer: &Layer<A>,
    input: Shape,
    opts: &Options,
    k: usize,
) -> Result<(Array2<A>, Array1<A>)> {
    let lowered_bias = |l: &Layer<A>| -> Result<Array1<A>> {
        Ok(match l {
            Layer::Linear(fc) => crate::lower::linear_bias(fc, input),
            other => lower(other, input)?.bias,
        })
    };
    let rows = match &m {
        Adj::Identity(n) => *n,
        Adj::Dense(d) => d.nrows(),
    };
    memory::check(
        || {
            format!(
                "node #{k} ({}): the {rows}x{} adjoint",
                layer.describe(),
                input.numel()
            )
        },
        matrix_bytes(rows, input.numel(), size_of::<A>()),
        opts.memory_budget,
        "",
    )?;
    let m = match m {
        Adj::Identity(_) => {
            let a = match layer {
                Layer::Linear(fc) if fc.matrix_is_weight(input) => fc.weight().clone(),
                other => lower(other, input)?.matrix.to_dense()?,
            };
            return Ok((a, lowered_bias(layer)?));
        }
        Adj::Dense(d) => d,
    };
    Ok(match layer {
        Layer::Linear(fc) if fc.matrix_is_weight(input) => (
            gemm(m.view(), fc.weight().view(), opts.par),
            gemv(m.view(), &fc.bias_or_zeros(), opts.par),
        ),
        Layer::Conv2d(conv) if opts.method != Method::Sparse && opts.method != Method::Dense => {
            im2col::conv_right_of(m.view(), conv, input, opts.par)
        }
        other => {
            let lowered = lower(other, input)?;
            let c = gemv(m.view(), &lowered.bias, opts.par);
            let p = match lowered.matrix {
                Matrix::Identity(_) => m,
                Matrix::Sparse(t) if opts.method != Method::Dense => t.left_mul(m.view(), opts.par),
                t => gemm(m.view(), t.to_dense()?.view(), opts.par),
            };
            (p, c)
        }
    })
}

#[cfg(test)]
mod residual_tests {
    use super::compose_graph;
    use crate::graph::{Model, Op, Src};
    use crate::layer::{Layer, Linear};
    use crate::{Options, Shape};
    use ndarray::array;

    #[test]
    fn a_residual_adds_the_identity() {
        // y = W x + x
        let mut m = Model::<f64>::new(Shape::flat(2));
        let w = Linear::new(array![[1.0, 2.0], [3.0, 4.0]], None).unwrap();
        let fc = m
            .push("fc", Op::Layer(Layer::Linear(w)), vec![Src::Input])
            .unwrap();
        m.push("add", Op::Add, vec![fc, Src::Input]).unwrap();
        let single = compose_graph(&m, &Options::default()).unwrap();
        assert_eq!(single.weight(), &array![[2.0, 2.0], [3.0, 5.0]]);
    }
}
