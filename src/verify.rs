//! Checking a collapsed layer three ways: against the probe, against the direct forward pass on random
//! inputs, and (in the tests) against outside golden data. Errors are reported, never just asserted.

use std::fmt;

use ndarray::{Array1, ArrayView, Dimension, Zip};
use ndarray_linalg::{Norm, SVD};

use crate::graph::{Model, Op, Src};
use crate::layer::{Layer, Linear};
use crate::reference::{self, probe, GraphNode, GraphOp};
use crate::rng::SplitMix64;
use crate::{Error, Result, Scalar, Shape};

/// How far a candidate array is from a reference array.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// `max |cand - ref|`.
    pub max_abs: f64,
    /// `||cand - ref||_F / ||ref||_F` (the absolute Frobenius error when the reference is zero).
    pub rel_fro: f64,
    /// Multi-index of the largest absolute error.
    pub worst: Vec<usize>,
    /// Candidate and reference values at `worst`.
    pub worst_values: (f64, f64),
    /// Largest reference magnitude (the scale errors are relative to).
    pub ref_max: f64,
}

impl Comparison {
    /// Compares two arrays of the same shape, in `f64`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when the shapes differ.
    ///
    /// ```
    /// use linear_collapse::verify::Comparison;
    /// use ndarray::array;
    /// let c = Comparison::of(array![1.0f32, 2.0].view(), array![1.0f64, 2.5].view())?;
    /// assert_eq!(c.max_abs, 0.5);
    /// assert_eq!(c.worst, vec![1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn of<A: Scalar, B: Scalar, D: Dimension>(
        candidate: ArrayView<A, D>,
        reference: ArrayView<B, D>,
    ) -> Result<Self> {
        if candidate.shape() != reference.shape() {
            return Err(Error::invalid(
                "comparison",
                format!(
                    "candidate shape {:?} differs from reference shape {:?}",
                    candidate.shape(),
                    reference.shape()
                ),
            ));
        }
        let diff = Zip::from(&candidate)
            .and(&reference)
            .map_collect(|a, b| a.widen() - b.widen());
        let refs = reference.mapv(|b| b.widen());
        let (mut max_abs, mut flat) = (0.0f64, 0usize);
        for (i, d) in diff.iter().enumerate() {
            if d.abs() > max_abs || d.is_nan() {
                max_abs = d.abs();
                flat = i;
            }
        }
        let worst = unravel(flat, diff.shape());
        let (diff_norm, ref_norm) = (diff.norm_l2(), refs.norm_l2());
        let worst_values = if diff.is_empty() {
            (0.0, 0.0)
        } else {
            let c = candidate.iter().nth(flat).map_or(f64::NAN, |v| v.widen());
            (c, refs.iter().nth(flat).copied().unwrap_or(f64::NAN))
        };
        Ok(Comparison {
            max_abs,
            rel_fro: if ref_norm > 0.0 {
                diff_norm / ref_norm
            } else {
                diff_norm
            },
            worst,
            worst_values,
            ref_max: refs.norm_max(),
        })
    }
}

/// The C-order multi-index of flat position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (k, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[k] = flat % n;
            flat /= n;
        }
    }
    idx
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "max abs {:.3e} at {:?} ({:.9} vs {:.9}), rel Frobenius {:.3e}",
            self.max_abs, self.worst, self.worst_values.0, self.worst_values.1, self.rel_fro
        )
    }
}

/// NumPy's `allclose`: `|a - b| <= atol + rtol * |b|` elementwise (and the same shape).
///
/// ```
/// use linear_collapse::verify::allclose;
/// use ndarray::array;
/// assert!(allclose(array![1.0f32].view(), array![1.0000001f64].view(), 1e-6, 0.0));
/// assert!(!allclose(array![1.0f32].view(), array![1.1f64].view(), 1e-6, 1e-5));
/// ```
pub fn allclose<A: Scalar, B: Scalar, D: Dimension>(
    a: ArrayView<A, D>,
    b: ArrayView<B, D>,
    atol: f64,
    rtol: f64,
) -> bool {
    a.shape() == b.shape()
        && Zip::from(&a).and(&b).all(|x, y| {
            let (x, y) = (x.widen(), y.widen());
            (x - y).abs() <= atol + rtol * y.abs()
        })
}

/// Singular values of a collapsed weight, from LAPACK's SVD.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    /// Numerical rank: singular values above `sigma_max * max(rows, cols) * eps` of the weight's type.
    pub rank: usize,
    /// Largest singular value (the spectral norm).
    pub sigma_max: f64,
    /// Smallest singular value counted in the rank.
    pub sigma_min: f64,
}

/// The numerical rank and extreme singular values of `weight`.
///
/// # Errors
/// [`Error::Format`] when LAPACK fails to converge.
///
/// ```
/// use linear_collapse::verify::spectrum;
/// use ndarray::array;
/// let s = spectrum(&array![[1.0f32, 0.0], [0.0, 0.0]])?;
/// assert_eq!(s.rank, 1);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn spectrum<T: Scalar>(weight: &ndarray::Array2<T>) -> Result<Spectrum> {
    let w = weight.mapv(|x| x.widen());
    let (_, s, _) = w.svd(false, false).map_err(|e| Error::Format {
        context: "SVD of the collapsed weight".into(),
        source: Box::new(e),
    })?;
    let sigma_max = s.iter().cloned().fold(0.0, f64::max);
    let cut = sigma_max * weight.nrows().max(weight.ncols()) as f64 * T::EPSILON.widen();
    let kept: Vec<f64> = s.iter().cloned().filter(|&v| v > cut).collect();
    Ok(Spectrum {
        rank: kept.len(),
        sigma_max,
        sigma_min: kept.iter().cloned().fold(f64::INFINITY, f64::min),
    })
}

/// Options of [`verify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Random inputs, uniform in `[-1, 1)`.
    pub samples: usize,
    /// Seed of the inputs.
    pub seed: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            samples: 5,
            seed: 0,
        }
    }
}

/// The result of [`verify`].
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// Collapsed weight against the probed one.
    pub weight_vs_probe: Comparison,
    /// Collapsed bias against `f(0)`.
    pub bias_vs_probe: Comparison,
    /// `W x + b` against the layer-by-layer forward pass, over the random inputs (`(samples, n_out)`).
    pub outputs_vs_forward: Comparison,
    /// Rank and singular values of the collapsed weight.
    pub spectrum: Spectrum,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "weight vs probe:      {}", self.weight_vs_probe)?;
        writeln!(f, "bias vs probe:        {}", self.bias_vs_probe)?;
        writeln!(f, "outputs vs forward:   {}", self.outputs_vs_forward)?;
        write!(
            f,
            "rank {} (sigma max {:.4e}, min {:.4e})",
            self.spectrum.rank, self.spectrum.sigma_max, self.spectrum.sigma_min
        )
    }
}

/// Checks `collapsed` against the probe of `chain` and against its direct forward pass on random inputs.
///
/// # Errors
/// [`Error::Shape`] when the chain does not fit `input` or `collapsed` has the wrong size.
///
/// ```
/// use linear_collapse::{collapse, verify::{verify, VerifyOptions}, layer::{Layer, Linear}, Options, Shape};
/// use ndarray::array;
/// let chain: Vec<Layer<f64>> = vec![
///     Linear::new(array![[1.0, 2.0], [0.0, 1.0]], Some(array![1.0, 0.0]))?.into(),
///     Linear::new(array![[2.0, 0.0]], None)?.into(),
/// ];
/// let fc = collapse(&chain, Shape::flat(2), &Options::default())?;
/// let v = verify(&fc, &chain, Shape::flat(2), &VerifyOptions::default())?;
/// assert!(v.weight_vs_probe.max_abs < 1e-12 && v.outputs_vs_forward.max_abs < 1e-12);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn verify<T: Scalar>(
    collapsed: &Linear<T>,
    chain: &[Layer<T>],
    input: Shape,
    opts: &VerifyOptions,
) -> Result<Verification> {
    let p = probe(chain, input)?;
    let weight_vs_probe = Comparison::of(collapsed.weight().view(), p.weight.view())?;
    let bias = collapsed.bias_or_zeros();
    let bias_vs_probe = Comparison::of(bias.view(), p.bias.view())?;
    let mut rng = SplitMix64::new(opts.seed);
    let n_in = input.numel();
    let n_out = collapsed.out_features();
    let mut got = ndarray::Array2::<f64>::zeros((opts.samples, n_out));
    let mut want = got.clone();
    let w = collapsed.weight().mapv(|v| v.widen());
    let b = bias.mapv(|v| v.widen());
    for s in 0..opts.samples {
        let x: Vec<f64> = (0..n_in).map(|_| rng.uniform()).collect();
        let (y, _) = reference::forward(chain, input, &x)?;
        want.row_mut(s).assign(&Array1::from(y));
        got.row_mut(s).assign(&(w.dot(&Array1::from(x)) + &b));
    }
    Ok(Verification {
        weight_vs_probe,
        bias_vs_probe,
        outputs_vs_forward: Comparison::of(got.view(), want.view())?,
        spectrum: spectrum(collapsed.weight())?,
    })
}

/// Runs one sample (flattened in C order) through a whole model with the independent reference
/// (a naive pass in `f64` with its own shape arithmetic, in `reference`); returns the output, flattened.
///
/// # Errors
/// [`Error::Shape`] or [`Error::InvalidLayer`] naming the node when shapes do not fit;
/// [`Error::Unsupported`] for an `Other` nonlinearity, which has no reference implementation.
///
/// ```
/// use linear_collapse::graph::{Model, Nonlinear, Op};
/// use linear_collapse::{verify::forward_model, Shape};
/// let m = Model::<f32>::sequential(Shape::flat(2), vec![Op::Nonlinear(Nonlinear::Relu)])?;
/// assert_eq!(forward_model(&m, &[-1.0, 2.0])?, vec![0.0, 2.0]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn forward_model<T: Scalar>(model: &Model<T>, x: &[f64]) -> Result<Vec<f64>> {
    let index = |s: &Src| match *s {
        Src::Input => 0,
        Src::Node(i) => i + 1,
    };
    let nodes: Vec<GraphNode<'_, T>> = model
        .nodes()
        .iter()
        .map(|n| GraphNode {
            name: &n.name,
            op: match &n.op {
                Op::Layer(l) => GraphOp::Layer(l),
                Op::Add => GraphOp::Add,
                Op::Concat { axis } => GraphOp::Concat(*axis),
                Op::Nonlinear(f) => GraphOp::Nonlinear(f),
            },
            inputs: n.inputs.iter().map(index).collect(),
        })
        .collect();
    reference::forward_graph(model.input_shape(), &nodes, x, index(&model.output()))
}
