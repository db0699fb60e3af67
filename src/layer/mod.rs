//! The layers: plain data with validating constructors, wrapped in the closed [`Layer`] enum.
//!
//! Each layer is its own struct with inherent methods; [`Layer`] only dispatches. The set is closed because
//! every consumer (lowering, the reference, file formats) must handle every layer with an exhaustive `match`.

mod conv2d;
mod flatten;
mod geometry;
mod linear;

pub use conv2d::{Conv2d, Conv2dConfig};
pub use flatten::Flatten;
pub use geometry::Geometry2d;
pub use linear::Linear;

use crate::{Error, Result, Scalar};

/// One layer of a chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer<T> {
    /// `y = W x + b`.
    Linear(Linear<T>),
    /// 2-d convolution.
    Conv2d(Conv2d<T>),
    /// `(C, H, W)` to `(C*H*W,)`.
    Flatten(Flatten),
}

impl<T: Scalar> Layer<T> {
    /// Short description, e.g. `Conv2d(5->50, k5x5, s[2, 2])` or `Flatten`.
    ///
    /// ```
    /// use linear_collapse::layer::{Flatten, Layer};
    /// assert_eq!(Layer::<f32>::Flatten(Flatten).describe(), "Flatten");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            Layer::Linear(l) => l.describe(),
            Layer::Conv2d(c) => c.describe(),
            Layer::Flatten(_) => "Flatten".into(),
        }
    }

    /// Parameter count.
    ///
    /// ```
    /// use linear_collapse::layer::{Flatten, Layer};
    /// assert_eq!(Layer::<f32>::Flatten(Flatten).num_params(), 0);
    /// ```
    pub fn num_params(&self) -> usize {
        match self {
            Layer::Linear(l) => l.num_params(),
            Layer::Conv2d(c) => c.num_params(),
            Layer::Flatten(_) => 0,
        }
    }

    /// The same layer with its weights converted to another precision.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a weight overflows the target type.
    ///
    /// ```
    /// use linear_collapse::layer::{Layer, Linear};
    /// use ndarray::Array2;
    /// let l = Layer::Linear(Linear::new(Array2::<f32>::eye(3), None)?);
    /// let wide: Layer<f64> = l.cast()?;
    /// assert_eq!(wide.num_params(), 9);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<Layer<U>> {
        let cv = |x: &T| U::narrow(x.widen());
        Ok(match self {
            Layer::Linear(l) => Layer::Linear(Linear::new(
                l.weight().map(cv),
                l.bias().map(|b| b.map(cv)),
            )?),
            Layer::Conv2d(c) => Layer::Conv2d(Conv2d::new(
                c.weight().map(cv),
                c.bias().map(|b| b.map(cv)),
                c.config(),
            )?),
            Layer::Flatten(f) => Layer::Flatten(*f),
        })
    }
}

impl<T> From<Linear<T>> for Layer<T> {
    fn from(l: Linear<T>) -> Self {
        Layer::Linear(l)
    }
}

impl<T> From<Conv2d<T>> for Layer<T> {
    fn from(c: Conv2d<T>) -> Self {
        Layer::Conv2d(c)
    }
}

impl<T> From<Flatten> for Layer<T> {
    fn from(f: Flatten) -> Self {
        Layer::Flatten(f)
    }
}

/// Fails with the index of the first NaN or infinite value.
pub(crate) fn check_finite<'a, T: Scalar>(
    layer: &str,
    what: &str,
    values: impl Iterator<Item = &'a T>,
) -> Result<()> {
    for (i, v) in values.enumerate() {
        if !v.finite() {
            return Err(Error::invalid(
                layer,
                format!("{what} has a non-finite value ({v}) at flat index {i}"),
            ));
        }
    }
    Ok(())
}
