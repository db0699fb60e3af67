//! Probing, the forum method: `b = f(0)`, column `i` of `W` = `f(e_i) - f(0)`, on the reference forward pass.
//!
//! It needs `n_in` forward passes; here they run in `f64` and in parallel, so it is slow but accurate, and
//! it shares no code with the analytic path.

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use super::forward;
use crate::layer::Layer;
use crate::{Error, Result, Scalar, Shape};

/// The affine map a chain computes, found by probing.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// `W`, `(n_out, n_in)`.
    pub weight: Array2<f64>,
    /// `b = f(0)`, `(n_out,)`.
    pub bias: Array1<f64>,
    /// The chain's output shape.
    pub output_shape: Shape,
}

/// Probes `chain` at `input`: one reference forward pass per input element, plus one at zero.
///
/// # Errors
/// [`Error::Shape`] as [`forward`]; [`Error::TooLarge`] when `W` would exceed 8 GiB.
///
/// ```
/// use linear_collapse::{reference::probe, layer::{Layer, Linear}, Shape};
/// use ndarray::array;
/// let chain: Vec<Layer<f32>> = vec![Linear::new(array![[1.0, 2.0]], Some(array![3.0]))?.into()];
/// let p = probe(&chain, Shape::flat(2))?;
/// assert_eq!(p.weight, array![[1.0, 2.0]]);
/// assert_eq!(p.bias, array![3.0]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn probe<T: Scalar>(chain: &[Layer<T>], input: Shape) -> Result<Probe> {
    let n_in = input.numel();
    let (bias, output_shape) = forward(chain, input, &vec![0.0; n_in])?;
    let n_out = bias.len();
    let needed = (n_out as u64).saturating_mul(n_in as u64).saturating_mul(8);
    if needed > 8 << 30 {
        return Err(Error::TooLarge {
            what: format!("probing a {n_out}x{n_in} map"),
            needed,
            budget: 8 << 30,
            hint: String::new(),
        });
    }
    let columns: Vec<Vec<f64>> = (0..n_in)
        .into_par_iter()
        .map(|i| {
            let mut e = vec![0.0; n_in];
            e[i] = 1.0;
            let (y, _) = forward(chain, input, &e)?;
            Ok(y.iter().zip(&bias).map(|(a, b)| a - b).collect())
        })
        .collect::<Result<_>>()?;
    let weight = Array2::from_shape_fn((n_out, n_in), |(o, i)| columns[i][o]);
    Ok(Probe {
        weight,
        bias: Array1::from(bias),
        output_shape,
    })
}
