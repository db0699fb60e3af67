//! `ScaleShift`: `y = x * scale + shift`, element by element, with NumPy broadcasting.

use ndarray::ArrayD;

use super::check_finite;
use crate::{Error, Result, Scalar, Shape, MAX_RANK};

/// `y = x * scale + shift` element by element (ONNX `Mul`, `Add`, `Sub` and `Div` by a constant, and `Neg`
/// as the scale `-1`), each of `scale` and `shift` optional (absent: 1 and 0).
///
/// Both broadcast to the sample's shape by NumPy's rules, aligned on the last axis: a `(C, 1, 1)` scale on
/// a `(C, H, W)` sample is one value per channel, a scalar `()` scales everything, a `(W,)` one scales
/// along the last axis. Neither may enlarge the sample (more axes, or a size that is neither 1 nor the
/// sample's). It lowers to a diagonal matrix and a bias.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleShift<T> {
    scale: Option<ArrayD<T>>,
    shift: Option<ArrayD<T>>,
}

/// `(3, 1, 1)`; `()` for a scalar.
fn dims_text(dims: &[usize]) -> String {
    let d: Vec<String> = dims.iter().map(usize::to_string).collect();
    format!("({})", d.join(", "))
}

impl<T: Scalar> ScaleShift<T> {
    /// The layer with this scale and shift (at least one of them).
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when both are absent, one has more than [`MAX_RANK`] axes or a zero
    /// dimension, or a value is NaN or infinite.
    ///
    /// ```
    /// use linear_collapse::layer::ScaleShift;
    /// use ndarray::{arr0, ArrayD, IxDyn};
    /// let per_channel = ArrayD::from_shape_vec(IxDyn(&[2, 1, 1]), vec![2.0f32, 3.0]).unwrap();
    /// let s = ScaleShift::new(Some(per_channel), Some(arr0(0.5).into_dyn()))?;
    /// assert_eq!(s.num_params(), 3);
    /// assert!(ScaleShift::<f32>::new(None, None).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(scale: Option<ArrayD<T>>, shift: Option<ArrayD<T>>) -> Result<Self> {
        let s = ScaleShift { scale, shift };
        let name = s.describe();
        if s.scale.is_none() && s.shift.is_none() {
            return Err(Error::invalid(name, "needs a scale, a shift or both"));
        }
        for (what, a) in [("scale", &s.scale), ("shift", &s.shift)] {
            let Some(a) = a else { continue };
            if a.ndim() > MAX_RANK {
                return Err(Error::invalid(
                    name,
                    format!(
                        "{what} has {} axes, more than a sample's {MAX_RANK}",
                        a.ndim()
                    ),
                ));
            }
            if a.shape().contains(&0) {
                return Err(Error::invalid(
                    name,
                    format!("{what} {} has a zero dimension", dims_text(a.shape())),
                ));
            }
            check_finite(&name, what, a)?;
        }
        Ok(s)
    }

    /// The scale, if any (absent: 1).
    ///
    /// ```
    /// use linear_collapse::layer::ScaleShift;
    /// use ndarray::arr0;
    /// let neg = ScaleShift::new(Some(arr0(-1.0f32).into_dyn()), None)?;
    /// assert_eq!(neg.scale().map(|s| s.ndim()), Some(0));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn scale(&self) -> Option<&ArrayD<T>> {
        self.scale.as_ref()
    }

    /// The shift, if any (absent: 0).
    ///
    /// ```
    /// use linear_collapse::layer::ScaleShift;
    /// use ndarray::arr0;
    /// let add = ScaleShift::new(None, Some(arr0(1.5f32).into_dyn()))?;
    /// assert_eq!(add.shift().map(|s| s.len()), Some(1));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn shift(&self) -> Option<&ArrayD<T>> {
        self.shift.as_ref()
    }

    /// Stored values: the elements of the scale and the shift.
    ///
    /// ```
    /// use linear_collapse::layer::ScaleShift;
    /// use ndarray::{ArrayD, IxDyn};
    /// let s = ScaleShift::new(None, Some(ArrayD::<f32>::zeros(IxDyn(&[4, 1]))))?;
    /// assert_eq!(s.num_params(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn num_params(&self) -> usize {
        self.scale.as_ref().map_or(0, |a| a.len()) + self.shift.as_ref().map_or(0, |a| a.len())
    }

    /// The per-channel `(scale, shift)`, each of length `dims[0]`, when on a sample of shape `input` both
    /// vary along its first axis at most (a `(C, 1, 1)` or scalar array on `(C, H, W)`): what folds into
    /// a convolution, like [`super::BatchNorm::scale_shift`]. `None` when one varies along another axis,
    /// does not broadcast to `input`, or `input` has no axis.
    ///
    /// ```
    /// use linear_collapse::{layer::ScaleShift, Shape};
    /// use ndarray::{arr0, ArrayD, IxDyn};
    /// let scale = ArrayD::from_shape_vec(IxDyn(&[2, 1, 1]), vec![2.0f32, 3.0]).unwrap();
    /// let s = ScaleShift::new(Some(scale), Some(arr0(0.5).into_dyn()))?;
    /// assert_eq!(s.per_channel(Shape::chw(2, 4, 4)), Some((vec![2.0, 3.0], vec![0.5, 0.5])));
    /// // along the width: not per channel
    /// let w = ScaleShift::new(Some(ArrayD::<f32>::ones(IxDyn(&[4]))), None)?;
    /// assert_eq!(w.per_channel(Shape::chw(2, 4, 4)), None);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn per_channel(&self, input: Shape) -> Option<(Vec<f64>, Vec<f64>)> {
        let dims = input.dims();
        let c = *dims.first()?;
        let along = |a: Option<&ArrayD<T>>, default: f64| -> Option<Vec<f64>> {
            let Some(a) = a else {
                return Some(vec![default; c]);
            };
            let lead = dims.len().checked_sub(a.ndim())?;
            // axis k of `a` lines up with sample axis k + lead: each is 1, but the first sample axis may be C
            let fits = a
                .shape()
                .iter()
                .enumerate()
                .all(|(k, &n)| n == 1 || (k + lead == 0 && n == c));
            if !fits {
                return None;
            }
            let values: Vec<f64> = a.iter().map(|v| v.widen()).collect();
            Some(match values.len() {
                1 => vec![values[0]; c],
                _ => values,
            })
        };
        Some((along(self.scale(), 1.0)?, along(self.shift(), 0.0)?))
    }

    /// The same layer in another precision.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a value overflows `U`.
    ///
    /// ```
    /// use linear_collapse::layer::ScaleShift;
    /// use ndarray::arr0;
    /// let s = ScaleShift::new(Some(arr0(2.0f32).into_dyn()), None)?;
    /// assert_eq!(s.cast::<f64>()?.scale(), Some(&arr0(2.0f64).into_dyn()));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<ScaleShift<U>> {
        let cv = |a: &ArrayD<T>| a.map(|x| U::narrow(x.widen()));
        ScaleShift::new(self.scale.as_ref().map(cv), self.shift.as_ref().map(cv))
    }

    /// Short description, e.g. `ScaleShift(scale (3, 1, 1), shift ())`.
    ///
    /// ```
    /// use linear_collapse::layer::ScaleShift;
    /// use ndarray::{arr0, ArrayD, IxDyn};
    /// let s = ScaleShift::new(Some(ArrayD::<f32>::ones(IxDyn(&[3, 1, 1]))), Some(arr0(1.0).into_dyn()))?;
    /// assert_eq!(s.describe(), "ScaleShift(scale (3, 1, 1), shift ())");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let part = |what: &str, a: &Option<ArrayD<T>>| {
            a.as_ref()
                .map(|a| format!("{what} {}", dims_text(a.shape())))
        };
        let parts: Vec<String> = [part("scale", &self.scale), part("shift", &self.shift)]
            .into_iter()
            .flatten()
            .collect();
        format!("ScaleShift({})", parts.join(", "))
    }
}
