//! Composition: the chain's lowered maps multiplied together, `(A2, a2) o (A1, a1) = (A2 A1, A2 a1 + a2)`.
//!
//! The [`plan`] picks the order (for a small output, reverse order: from the last layer's weight backward,
//! so every product keeps as few rows as the chain has outputs) and a kernel per product. No probing.

mod forward;
mod graph;
mod im2col;
pub mod plan;

pub use forward::forward_batch;
pub(crate) use graph::compose_graph;
pub use plan::explain;

use std::borrow::Cow;

use ndarray::{Array1, Array2, ArrayView2};

use crate::layer::{Layer, Linear};
use crate::lower::lower;
use crate::matrix::{gemm, gemv, Matrix};

use crate::options::{Accumulate, Options};
use crate::{Error, Par, Result, Scalar, Shape};
use plan::{Kernel, Node, Plan, Side};

/// Collapses a chain of linear layers into the one [`Linear`] it equals.
///
/// The result has weight `(n_out, n_in)` and bias `(n_out,)`, where `n_in` is the number of elements of
/// `input` and `n_out` that of the chain's output; inputs and outputs are flattened in C order. `opts`
/// chooses the kernels ([`crate::Method`]), the precision ([`Accumulate`]), the threads and the memory budget.
///
/// # Errors
/// [`Error::Shape`] when the chain does not fit `input`; [`Error::TooLarge`] when a product would exceed
/// the memory budget; [`Error::InvalidLayer`] when the result overflows to infinity.
///
/// ```
/// use linear_collapse::{collapse, layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear}, Options, Shape};
/// use ndarray::{Array1, Array2, Array4};
/// let chain: Vec<Layer<f32>> = vec![
///     Conv2d::new(Array4::from_elem((2, 1, 2, 2), 0.25), Some(Array1::ones(2)), Conv2dConfig::default())?.into(),
///     Flatten.into(),
///     Linear::new(Array2::ones((3, 8)), None)?.into(),
/// ];
/// let fc = collapse(&chain, Shape::chw(1, 3, 3), &Options::default())?;
/// assert_eq!(fc.weight().dim(), (3, 9));
/// assert_eq!(fc.bias().unwrap()[0], 8.0); // 2 channels x 4 positions x bias 1
/// # Ok::<(), linear_collapse::Error>(())
/// ```
///
/// With explicit options:
///
/// ```
/// use linear_collapse::{collapse, Accumulate, Method, Options, Shape};
/// use linear_collapse::layer::{Layer, Linear};
/// use ndarray::array;
/// let chain: Vec<Layer<f32>> = vec![
///     Linear::new(array![[1.0, 2.0]], Some(array![1.0]))?.into(),
///     Linear::new(array![[3.0], [4.0]], None)?.into(),
/// ];
/// let opts = Options { method: Method::Dense, accumulate: Accumulate::F64, ..Options::default() };
/// let fc = collapse(&chain, Shape::flat(2), &opts)?;
/// assert_eq!(fc.weight(), &array![[3.0, 6.0], [4.0, 8.0]]);
/// assert_eq!(fc.bias().unwrap(), &array![3.0, 4.0]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn collapse<T: Scalar>(chain: &[Layer<T>], input: Shape, opts: &Options) -> Result<Linear<T>> {
    match opts.accumulate {
        Accumulate::Native => compose_chain(chain, input, opts),
        Accumulate::F64 => {
            let wide = chain
                .iter()
                .map(Layer::cast::<f64>)
                .collect::<Result<Vec<_>>>()?;
            let fc = compose_chain(&wide, input, opts)?;
            let narrow = |x: &f64| T::narrow(*x);
            Linear::new(fc.weight().map(narrow), fc.bias().map(|b| b.map(narrow)))
                .map_err(|e| overflow(T::NAME, e))
        }
    }
}

fn compose_chain<A: Scalar>(chain: &[Layer<A>], input: Shape, opts: &Options) -> Result<Linear<A>> {
    let plan = explain(chain, input, opts)?;
    let (m, c) = match &plan.root {
        None => (Array2::eye(input.numel()), Array1::zeros(input.numel())),
        Some(root) => {
            let v = eval(root, &plan, chain, opts.par)?;
            let c = v.bias();
            (v.m.into_dense()?, c)
        }
    };
    Linear::new(m, Some(c)).map_err(|e| overflow(A::NAME, e))
}

/// A sub-chain's affine map while the plan runs: a layer still in its own form, or a dense product.
enum Operand<'a, A> {
    Layer(&'a Layer<A>, Shape),
    Dense(Array2<A>),
}

impl<A: Scalar> Operand<'_, A> {
    /// The matrix as a dense array (borrowed for a Linear on a flat input or a product, built for a
    /// convolution or a Linear over the last axis of a larger input).
    fn as_dense(&self) -> Result<Cow<'_, Array2<A>>> {
        Ok(match self {
            Operand::Dense(a) => Cow::Borrowed(a),
            Operand::Layer(Layer::Linear(l), s) if l.matrix_is_weight(*s) => {
                Cow::Borrowed(l.weight())
            }
            Operand::Layer(layer, s) => Cow::Owned(lower(layer, *s)?.matrix.to_dense()?),
        })
    }

    fn into_dense(self) -> Result<Array2<A>> {
        Ok(match self {
            Operand::Dense(a) => a,
            other => other.as_dense()?.into_owned(),
        })
    }

    /// `self · v` for a vector (to carry a bias through this operand).
    fn apply(&self, v: &Array1<A>, par: Par) -> Result<Array1<A>> {
        Ok(match self {
            Operand::Dense(a) => gemv(a.view(), v, par),
            Operand::Layer(Layer::Linear(l), s) if l.matrix_is_weight(*s) => {
                gemv(l.weight().view(), v, par)
            }
            // kron(I, W) v: the rows of V = v as (positions, in) times W^T
            Operand::Layer(Layer::Linear(l), _) => {
                let rows = v.len() / l.in_features();
                let x = v
                    .view()
                    .into_shape_with_order((rows, l.in_features()))
                    .expect("a contiguous vector");
                let y = gemm(x, l.weight().t(), par);
                Array1::from_iter(y)
            }
            Operand::Layer(Layer::Conv2d(c), s) => {
                let x = v.view().insert_axis(ndarray::Axis(0));
                forward::conv_batch(c, *s, x, false, par).row(0).to_owned()
            }
            Operand::Layer(layer, s) => lower(layer, *s)?.matrix.mul_vec(v),
        })
    }
}

/// The value of a node: its matrix and its bias.
struct Value<'a, A> {
    m: Operand<'a, A>,
    /// `None` for a convolution leaf: its repeated bias is built only if a product needs it (the im2col
    /// kernel sums the bias contribution itself).
    c: Option<Array1<A>>,
}

impl<A: Scalar> Value<'_, A> {
    fn bias(&self) -> Array1<A> {
        match (&self.c, &self.m) {
            (Some(c), _) => c.clone(),
            (None, Operand::Layer(Layer::Conv2d(conv), s)) => {
                let rows = crate::infer::output_shape(0, &Layer::Conv2d(conv.clone()), *s)
                    .map(|o| o.numel())
                    .unwrap_or(0);
                toeplitz_bias(conv, rows)
            }
            (None, _) => unreachable!("only convolution leaves defer their bias"),
        }
    }
}

fn eval<'a, A: Scalar>(
    node: &Node,
    plan: &Plan,
    chain: &'a [Layer<A>],
    par: Par,
) -> Result<Value<'a, A>> {
    let (left, right, step) = match node {
        Node::Leaf(f) => {
            let factor = &plan.factors[*f];
            let layer = &chain[factor.layer];
            let c = match layer {
                Layer::Linear(l) => Some(crate::lower::linear_bias(l, factor.input)),
                Layer::Conv2d(_) => None,
                other => Some(lower(other, factor.input)?.bias),
            };
            return Ok(Value {
                m: Operand::Layer(layer, factor.input),
                c,
            });
        }
        Node::Product { left, right, step } => (left, right, &plan.steps[*step]),
    };
    let l = eval(left, plan, chain, par)?;
    let r = eval(right, plan, chain, par)?;
    if let (Kernel::Im2col, Operand::Layer(Layer::Conv2d(conv), s)) = (step.kernel, &r.m) {
        // The fold sums the bias contribution from the tiles it already reads.
        let (m, c) = im2col::conv_right_of(l.m.as_dense()?.view(), conv, *s, par);
        return Ok(Value {
            m: Operand::Dense(m),
            c: Some(c + &l.bias()),
        });
    }
    let c = l.m.apply(&r.bias(), par)? + &l.bias();
    let m = product(&l.m, &r.m, step.kernel, step.side, par)?;
    Ok(Value {
        m: Operand::Dense(m),
        c: Some(c),
    })
}

/// `L R` with the planned kernel; `side` says which operand is the structured layer.
fn product<A: Scalar>(
    l: &Operand<A>,
    r: &Operand<A>,
    kernel: Kernel,
    side: Side,
    par: Par,
) -> Result<Array2<A>> {
    Ok(match (kernel, side) {
        (Kernel::Gemm, _) | (_, Side::None) => {
            gemm(l.as_dense()?.view(), r.as_dense()?.view(), par)
        }
        (_, Side::Right) => {
            let Operand::Layer(layer, s) = r else {
                unreachable!("the planner puts a structured layer on the right")
            };
            right_product(l.as_dense()?.view(), layer, *s, kernel, par)?
        }
        (_, Side::Left) => {
            let Operand::Layer(layer, s) = l else {
                unreachable!("the planner puts a structured layer on the left")
            };
            left_product(layer, *s, r.as_dense()?.view(), kernel, par)?
        }
    })
}

/// `M A` for the matrix `A` of a structured `layer` at `input`.
fn right_product<A: Scalar>(
    m: ArrayView2<A>,
    layer: &Layer<A>,
    input: Shape,
    kernel: Kernel,
    par: Par,
) -> Result<Array2<A>> {
    if let (Layer::Conv2d(conv), Kernel::Im2col) = (layer, kernel) {
        return Ok(im2col::conv_right_of(m, conv, input, par).0);
    }
    Ok(match (lower(layer, input)?.matrix, kernel) {
        (Matrix::Sparse(t), Kernel::Sparse) => t.left_mul(m, par),
        (Matrix::Identity(_), _) => m.to_owned(),
        (t, _) => gemm(m, t.to_dense()?.view(), par),
    })
}

/// `A D` for the matrix `A` of a structured `layer` at `input`.
fn left_product<A: Scalar>(
    layer: &Layer<A>,
    input: Shape,
    d: ArrayView2<A>,
    kernel: Kernel,
    par: Par,
) -> Result<Array2<A>> {
    if let (Layer::Conv2d(conv), Kernel::ConvForward) = (layer, kernel) {
        return Ok(forward::conv_left_of(conv, input, d, par));
    }
    Ok(match (lower(layer, input)?.matrix, kernel) {
        (Matrix::Sparse(t), Kernel::Sparse) => t.right_mul(d, par),
        (Matrix::Identity(_), _) => d.to_owned(),
        (t, _) => gemm(t.to_dense()?.view(), d, par),
    })
}

/// The conv bias repeated over the output positions (`rows = C_out * OH * OW`).
fn toeplitz_bias<A: Scalar>(conv: &crate::layer::Conv2d<A>, rows: usize) -> Array1<A> {
    let per = rows / conv.c_out();
    match conv.bias() {
        Some(b) => Array1::from_shape_fn(rows, |r| b[r / per]),
        None => Array1::zeros(rows),
    }
}

fn overflow(ty: &str, e: Error) -> Error {
    Error::invalid(
        "collapsed layer",
        format!("the product is not finite in {ty}: {e}"),
    )
}
