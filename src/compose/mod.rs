//! Composition: the chain's lowered maps multiplied in reverse order, from the last layer's weight backward.
//!
//! For `A_k ... A_1` the accumulator starts as the last layer's matrix `M = A_k` with bias `c = a_k`; each
//! earlier layer `(A_i, a_i)` updates `c += M a_i`, then `M = M A_i`. `M` keeps as many rows as the chain has
//! outputs, so each product costs `rows * nnz(A_i)` (sparse) or `rows * n_i * n_{i-1}` (dense). No probing.

use ndarray::{Array1, Array2};

use crate::layer::{Layer, Linear};
use crate::lower::toeplitz;
use crate::matrix::gemm;
use crate::memory::{self, matrix_bytes};
use crate::{infer, Error, Par, Result, Scalar, Shape};

/// How each product with a convolution's Toeplitz matrix is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// Build `T` densely and multiply with the parallel GEMM: the teaching path, `F*n_mid*n_in`
    /// multiply-adds and `n_mid*n_in` extra memory.
    Dense,
    /// Keep `T` in CSR and multiply the dense rows by it: `F*nnz(T)` multiply-adds.
    #[default]
    Sparse,
}

/// The precision the products are accumulated in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Accumulate {
    /// The weights' own type.
    #[default]
    Native,
    /// Widen to `f64`, compose, and round the result once (for `f32` weights: the result is the `f32`
    /// rounding of the exact answer, up to `f64` error).
    F64,
}

/// Options of [`collapse_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How convolution products are computed.
    pub method: Method,
    /// Accumulation precision.
    pub accumulate: Accumulate,
    /// Threads.
    pub par: Par,
    /// Largest working set, in bytes, a plan may allocate; checked before allocating.
    pub memory_budget: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::default(),
            accumulate: Accumulate::default(),
            par: Par::default(),
            memory_budget: memory::default_budget(),
        }
    }
}

/// Collapses a chain of linear layers into the one [`Linear`] it equals, with the default [`Options`].
///
/// The result has weight `(n_out, n_in)` and bias `(n_out,)`, where `n_in` is the number of elements of
/// `input` and `n_out` that of the chain's output; inputs and outputs are flattened in C order.
///
/// # Errors
/// [`Error::Shape`] when the chain does not fit `input`; [`Error::TooLarge`] when a product would exceed
/// the memory budget; [`Error::InvalidLayer`] when the result overflows to infinity.
///
/// ```
/// use linear_collapse::{collapse, layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear}, Shape};
/// use ndarray::{Array1, Array2, Array4};
/// let chain: Vec<Layer<f32>> = vec![
///     Conv2d::new(Array4::from_elem((2, 1, 2, 2), 0.25), Some(Array1::ones(2)), Conv2dConfig::default())?.into(),
///     Flatten.into(),
///     Linear::new(Array2::ones((3, 8)), None)?.into(),
/// ];
/// let fc = collapse(&chain, Shape::chw(1, 3, 3))?;
/// assert_eq!(fc.weight().dim(), (3, 9));
/// assert_eq!(fc.bias().unwrap()[0], 8.0); // 2 channels x 4 positions x bias 1
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn collapse<T: Scalar>(chain: &[Layer<T>], input: Shape) -> Result<Linear<T>> {
    collapse_with(chain, input, &Options::default())
}

/// [`collapse`] with explicit [`Options`].
///
/// # Errors
/// As [`collapse`].
///
/// ```
/// use linear_collapse::{collapse_with, Accumulate, Method, Options, Shape};
/// use linear_collapse::layer::{Layer, Linear};
/// use ndarray::array;
/// let chain: Vec<Layer<f32>> = vec![
///     Linear::new(array![[1.0, 2.0]], Some(array![1.0]))?.into(),
///     Linear::new(array![[3.0], [4.0]], None)?.into(),
/// ];
/// let opts = Options { method: Method::Dense, accumulate: Accumulate::F64, ..Options::default() };
/// let fc = collapse_with(&chain, Shape::flat(2), &opts)?;
/// assert_eq!(fc.weight(), &array![[3.0, 6.0], [4.0, 8.0]]);
/// assert_eq!(fc.bias().unwrap(), &array![3.0, 4.0]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn collapse_with<T: Scalar>(
    chain: &[Layer<T>],
    input: Shape,
    opts: &Options,
) -> Result<Linear<T>> {
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

/// The running product `M` and bias `c` of the layers already passed (from the end).
type Acc<A> = Option<(Array2<A>, Array1<A>)>;

fn compose_chain<A: Scalar>(chain: &[Layer<A>], input: Shape, opts: &Options) -> Result<Linear<A>> {
    let shapes = infer::shapes(chain, input)?;
    let mut acc: Acc<A> = None;
    for (i, layer) in chain.iter().enumerate().rev() {
        acc = step(acc, i, layer, shapes[i], opts)?;
    }
    let (m, c) = match acc {
        Some(mc) => mc,
        None => {
            let n = input.numel();
            memory::check(
                || format!("the {n}x{n} identity"),
                matrix_bytes(n, n, size_of::<A>()),
                opts.memory_budget,
                "",
            )?;
            (Array2::eye(n), Array1::zeros(n))
        }
    };
    Linear::new(m, Some(c)).map_err(|e| overflow(A::NAME, e))
}

/// Folds layer `i` (whose input is `shape`) into the accumulator.
fn step<A: Scalar>(
    acc: Acc<A>,
    i: usize,
    layer: &Layer<A>,
    shape: Shape,
    opts: &Options,
) -> Result<Acc<A>> {
    let budget = opts.memory_budget;
    let elem = size_of::<A>();
    Ok(match (layer, acc) {
        (Layer::Flatten(_), acc) => acc,
        (Layer::Linear(l), None) => Some((l.weight().clone(), l.bias_or_zeros())),
        (Layer::Linear(l), Some((m, c))) => {
            let what = || format!("layer #{i} ({}): the product", l.describe());
            memory::check(
                what,
                matrix_bytes(m.nrows(), l.in_features(), elem),
                budget,
                "",
            )?;
            let c = c + m.dot(&l.bias_or_zeros());
            Some((gemm(m.view(), l.weight().view(), opts.par), c))
        }
        (Layer::Conv2d(conv), acc) => {
            let t = toeplitz(conv, shape)?;
            let (n_mid, n_in) = (t.matrix.nrows(), t.matrix.ncols());
            let rows = acc.as_ref().map_or(n_mid, |(m, _)| m.nrows());
            let dense_t = matrix_bytes(n_mid, n_in, elem);
            let out = matrix_bytes(rows, n_in, elem);
            let needs_dense_t = acc.is_none() || opts.method == Method::Dense;
            let needed = out.saturating_add(if needs_dense_t { dense_t } else { 0 });
            let what = || {
                format!(
                    "layer #{i} ({}): {rows}x{n_in} result{}",
                    conv.describe(),
                    if needs_dense_t {
                        format!(" and the dense {n_mid}x{n_in} Toeplitz matrix")
                    } else {
                        String::new()
                    }
                )
            };
            let hint = if needs_dense_t && acc.is_some() && out <= budget {
                "Method::Sparse fits"
            } else {
                ""
            };
            memory::check(what, needed, budget, hint)?;
            match acc {
                None => Some((t.dense(), t.bias)),
                Some((m, c)) => {
                    let c = c + m.dot(&t.bias);
                    let m = match opts.method {
                        Method::Dense => gemm(m.view(), t.dense().view(), opts.par),
                        Method::Sparse => t.matrix.left_mul(m.view(), opts.par),
                    };
                    Some((m, c))
                }
            }
        }
    })
}

fn overflow(ty: &str, e: Error) -> Error {
    Error::invalid(
        "collapsed layer",
        format!("the product is not finite in {ty}: {e}"),
    )
}
