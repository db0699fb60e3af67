//! `Linear`: `y = W x + b` over the last axis, weight `(out_features, in_features)` as in PyTorch.

use ndarray::{Array1, Array2};

use super::check_finite;
use crate::{Error, Result, Scalar, Shape};

/// A fully connected layer, `y = W x + b`, applied over the last axis of the sample as PyTorch's
/// `nn.Linear` does: `(..., in_features) -> (..., out_features)`, the same `W` and `b` at every position
/// of the leading axes (ONNX `MatMul` by a constant matrix). On a flat sample it is `W x + b` itself; on
/// any other its matrix is the block-diagonal `kron(I, W)`, one block per position.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear<T> {
    weight: Array2<T>,
    bias: Option<Array1<T>>,
}

impl<T: Scalar> Linear<T> {
    /// Builds a layer from its weight `(out_features, in_features)` and optional bias `(out_features,)`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a dimension is zero, the bias length differs from `out_features`, or a
    /// weight is NaN or infinite.
    ///
    /// ```
    /// use linear_collapse::layer::Linear;
    /// use ndarray::{array, Array2};
    /// let fc = Linear::new(Array2::<f32>::eye(2), Some(array![1.0, 2.0]))?;
    /// assert_eq!((fc.out_features(), fc.in_features()), (2, 2));
    /// assert!(Linear::new(Array2::<f32>::eye(2), Some(array![1.0])).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(weight: Array2<T>, bias: Option<Array1<T>>) -> Result<Self> {
        let (out, inp) = weight.dim();
        let name = format!("Linear({inp}->{out})");
        if out == 0 || inp == 0 {
            return Err(Error::invalid(name, "weight has a zero dimension"));
        }
        if let Some(b) = &bias {
            if b.len() != out {
                return Err(Error::invalid(
                    name,
                    format!("bias has {} elements, out_features is {out}", b.len()),
                ));
            }
            check_finite(&name, "bias", b)?;
        }
        check_finite(&name, "weight", &weight)?;
        Ok(Linear { weight, bias })
    }

    /// The weight, `(out_features, in_features)`.
    pub fn weight(&self) -> &Array2<T> {
        &self.weight
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<&Array1<T>> {
        self.bias.as_ref()
    }

    /// The bias, or zeros when the layer has none.
    pub fn bias_or_zeros(&self) -> Array1<T> {
        self.bias
            .clone()
            .unwrap_or_else(|| Array1::zeros(self.out_features()))
    }

    /// Number of inputs.
    pub fn in_features(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of outputs.
    pub fn out_features(&self) -> usize {
        self.weight.nrows()
    }

    /// Parameter count (weight plus bias).
    pub fn num_params(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, |b| b.len())
    }

    /// Whether the layer's matrix on `input` (a shape it accepts) is `W` itself: the input has one position,
    /// `in_features` elements.
    pub(crate) fn matrix_is_weight(&self, input: Shape) -> bool {
        input.numel() == self.in_features()
    }

    /// Applies the layer to one flat sample: `W x + b`.
    ///
    /// # Panics
    /// When `x.len() != in_features`.
    ///
    /// ```
    /// use linear_collapse::layer::Linear;
    /// use ndarray::array;
    /// let fc = Linear::new(array![[1.0f64, 2.0]], Some(array![0.5]))?;
    /// assert_eq!(fc.apply(&array![1.0, 1.0]), array![3.5]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    #[track_caller]
    pub fn apply(&self, x: &Array1<T>) -> Array1<T> {
        assert_eq!(x.len(), self.in_features(), "input length");
        let y = self.weight.dot(x);
        match &self.bias {
            Some(b) => y + b,
            None => y,
        }
    }

    /// Short description, e.g. `Linear(1250->100)`.
    pub fn describe(&self) -> String {
        format!("Linear({}->{})", self.in_features(), self.out_features())
    }
}
