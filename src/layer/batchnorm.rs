//! `BatchNorm` in eval mode: `y = weight * (x - running_mean) / sqrt(running_var + eps) + bias`, per channel.

use ndarray::Array1;

use super::check_finite;
use crate::{Error, Result, Scalar};

/// Batch normalization with frozen statistics (PyTorch's `BatchNorm1d`/`BatchNorm2d` in `eval()` mode).
///
/// Per channel `c`: `y = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c]`, a diagonal affine map.
/// On `(C, H, W)` (BatchNorm2d) and `(C, L)` (BatchNorm1d) inputs `c` is the channel; on a flat `(C,)` input
/// (BatchNorm1d after a Linear) it is the feature.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm<T> {
    running_mean: Array1<T>,
    running_var: Array1<T>,
    eps: f64,
    weight: Option<Array1<T>>,
    bias: Option<Array1<T>>,
}

impl<T: Scalar> BatchNorm<T> {
    /// Builds the layer from PyTorch's `running_mean`, `running_var`, `eps`, and the optional affine
    /// `weight` (gamma, ones when absent) and `bias` (beta, zeros when absent), all `(C,)`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when there are no channels, the lengths differ, a value or `eps` is NaN or
    /// infinite, or `running_var + eps <= 0` for some channel.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32, 1.0], array![1.0, 4.0], 0.0, Some(array![1.0, 2.0]), None)?;
    /// assert_eq!(bn.num_features(), 2);
    /// let bad = BatchNorm::new(array![0.0f32], array![-1.0], 1e-5, None, None);
    /// assert!(bad.unwrap_err().to_string().contains("running_var[0] + eps"));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(
        running_mean: Array1<T>,
        running_var: Array1<T>,
        eps: f64,
        weight: Option<Array1<T>>,
        bias: Option<Array1<T>>,
    ) -> Result<Self> {
        let n = running_mean.len();
        let name = format!("BatchNorm({n}, eps {})", eps as f32);
        if n == 0 {
            return Err(Error::invalid(name, "there are no channels"));
        }
        let named = [
            ("running_var", Some(&running_var)),
            ("weight", weight.as_ref()),
            ("bias", bias.as_ref()),
        ];
        for (what, v) in named {
            match v {
                Some(v) if v.len() != n => {
                    return Err(Error::invalid(
                        name,
                        format!("{what} has {} elements, running_mean has {n}", v.len()),
                    ))
                }
                Some(v) => check_finite(&name, what, v)?,
                None => {}
            }
        }
        check_finite(&name, "running_mean", &running_mean)?;
        if !eps.is_finite() {
            return Err(Error::invalid(name, format!("eps = {eps} is not finite")));
        }
        if let Some((c, v)) = running_var
            .iter()
            .enumerate()
            .find(|(_, v)| v.widen() + eps <= 0.0)
        {
            return Err(Error::invalid(
                name,
                format!(
                    "running_var[{c}] + eps = {} is not positive",
                    v.widen() + eps
                ),
            ));
        }
        Ok(BatchNorm {
            running_mean,
            running_var,
            eps,
            weight,
            bias,
        })
    }

    /// Number of channels `C`.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::Array1;
    /// let bn = BatchNorm::new(Array1::<f32>::zeros(3), Array1::ones(3), 1e-5, None, None)?;
    /// assert_eq!(bn.num_features(), 3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn num_features(&self) -> usize {
        self.running_mean.len()
    }

    /// The running mean, `(C,)`.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.5f32], array![1.0], 1e-5, None, None)?;
    /// assert_eq!(bn.running_mean(), &array![0.5]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn running_mean(&self) -> &Array1<T> {
        &self.running_mean
    }

    /// The running variance, `(C,)`.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32], array![2.0], 1e-5, None, None)?;
    /// assert_eq!(bn.running_var(), &array![2.0]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn running_var(&self) -> &Array1<T> {
        &self.running_var
    }

    /// The `eps` added to the variance.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32], array![1.0], 1e-3, None, None)?;
    /// assert_eq!(bn.eps(), 1e-3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The scale `gamma`, if the layer is affine.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32], array![1.0], 1e-5, Some(array![3.0]), None)?;
    /// assert_eq!(bn.weight(), Some(&array![3.0]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn weight(&self) -> Option<&Array1<T>> {
        self.weight.as_ref()
    }

    /// The shift `beta`, if the layer is affine.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32], array![1.0], 1e-5, None, Some(array![0.1]))?;
    /// assert_eq!(bn.bias(), Some(&array![0.1]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn bias(&self) -> Option<&Array1<T>> {
        self.bias.as_ref()
    }

    /// The per-channel affine map `y = scale * x + shift`, computed in `f64`:
    /// `scale = gamma / sqrt(var + eps)`, `shift = beta - mean * scale`.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![1.0f32], array![4.0], 0.0, Some(array![2.0]), Some(array![0.5]))?;
    /// let (scale, shift) = bn.scale_shift();
    /// assert_eq!((scale[0], shift[0]), (1.0, -0.5));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn scale_shift(&self) -> (Array1<f64>, Array1<f64>) {
        let n = self.num_features();
        let at =
            |v: Option<&Array1<T>>, c: usize, default: f64| v.map_or(default, |v| v[c].widen());
        let scale = Array1::from_shape_fn(n, |c| {
            at(self.weight(), c, 1.0) / (self.running_var[c].widen() + self.eps).sqrt()
        });
        let shift = Array1::from_shape_fn(n, |c| {
            at(self.bias(), c, 0.0) - self.running_mean[c].widen() * scale[c]
        });
        (scale, shift)
    }

    /// The same layer in another precision.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a value overflows `U`.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32], array![1.0], 1e-5, None, None)?;
    /// assert_eq!(bn.cast::<f64>()?.running_var(), &array![1.0]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<BatchNorm<U>> {
        let cv = |a: &Array1<T>| a.map(|x| U::narrow(x.widen()));
        BatchNorm::new(
            cv(&self.running_mean),
            cv(&self.running_var),
            self.eps,
            self.weight.as_ref().map(cv),
            self.bias.as_ref().map(cv),
        )
    }

    /// Stored values: the running statistics, plus weight and bias when present.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32, 0.0], array![1.0, 1.0], 1e-5, Some(array![1.0, 1.0]), None)?;
    /// assert_eq!(bn.num_params(), 6);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn num_params(&self) -> usize {
        let n = self.num_features();
        2 * n + self.weight.as_ref().map_or(0, |_| n) + self.bias.as_ref().map_or(0, |_| n)
    }

    /// Short description, e.g. `BatchNorm(8, eps 0.001)`.
    ///
    /// ```
    /// use linear_collapse::layer::BatchNorm;
    /// use ndarray::array;
    /// let bn = BatchNorm::new(array![0.0f32], array![1.0], 1e-3, None, None)?;
    /// assert_eq!(bn.describe(), "BatchNorm(1, eps 0.001)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!(
            "BatchNorm({}, eps {})",
            self.num_features(),
            self.eps as f32
        )
    }
}
