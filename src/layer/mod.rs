//! The layers: plain data with validating constructors, wrapped in the closed [`Layer`] enum.
//!
//! Each layer is its own struct with inherent methods; [`Layer`] only dispatches. The set is closed because
//! every consumer (lowering, the reference, file formats) must handle every layer with an exhaustive `match`.

mod avgpool1d;
mod avgpool2d;
mod batchnorm;
mod conv1d;
mod conv2d;
mod conv_transpose2d;
mod depth_to_space;
mod dropout;
mod expand;
mod flatten;
mod geometry;
mod identity;
mod linear;
mod nonlinear;
mod pad;
mod permute;
mod reduce;
mod reshape;
mod resize;
mod scale_shift;
mod slice;
mod space_to_depth;
mod upsample;

pub use avgpool1d::{AvgPool1d, AvgPool1dConfig};
pub use avgpool2d::{AvgPool2d, AvgPool2dConfig};
pub use batchnorm::BatchNorm;
pub use conv1d::{Conv1d, Conv1dConfig};
pub use conv2d::{Conv2d, Conv2dConfig};
pub use conv_transpose2d::{ConvTranspose2d, ConvTranspose2dConfig};
pub use depth_to_space::{DepthToSpace, DepthToSpaceMode};
pub use dropout::Dropout;
pub use expand::Expand;
pub use flatten::Flatten;
pub use geometry::Geometry2d;
pub use identity::Identity;
pub use linear::Linear;
pub use nonlinear::Nonlinear;
pub use pad::{Pad, PadMode};
pub use permute::Permute;
pub use reduce::{Reduce, ReduceOp};
pub use reshape::Reshape;
pub use resize::{CoordinateMode, NearestMode, Resize, ResizeMode, ResizeTarget};
pub use scale_shift::ScaleShift;
pub use slice::Slice;
pub use space_to_depth::SpaceToDepth;
pub use upsample::Upsample;

use crate::{Error, Result, Scalar};

/// One layer of a chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer<T> {
    /// `y = W x + b` over the last axis.
    Linear(Linear<T>),
    /// 2-d convolution.
    Conv2d(Conv2d<T>),
    /// `(C, H, W)` to `(C*H*W,)`.
    Flatten(Flatten),
    /// Batch normalization in eval mode, per channel (or per feature of a flat input).
    BatchNorm(BatchNorm<T>),
    /// 2-d average pooling.
    AvgPool2d(AvgPool2d),
    /// 1-d average pooling.
    AvgPool1d(AvgPool1d),
    /// Constant, reflect, replicate or circular padding.
    Pad(Pad<T>),
    /// 1-d convolution.
    Conv1d(Conv1d<T>),
    /// Transposed 2-d convolution.
    ConvTranspose2d(ConvTranspose2d<T>),
    /// Nearest-neighbour upsampling by integer factors.
    Upsample(Upsample),
    /// `y = x`.
    Identity(Identity),
    /// Dropout in eval mode: `y = x`.
    Dropout(Dropout),
    /// A new shape with the same flat index.
    Reshape(Reshape),
    /// A permutation of the axes of a sample.
    Permute(Permute),
    /// Every `step`-th element along one axis (ONNX `Slice` on one axis).
    Slice(Slice),
    /// `y = x * scale + shift`, element by element, both broadcast to the sample.
    ScaleShift(ScaleShift<T>),
    /// The sample broadcast to a larger shape (ONNX `Expand`).
    Expand(Expand),
    /// The mean or the sum over some axes (ONNX `ReduceMean`, `ReduceSum`).
    Reduce(Reduce),
    /// Blocks of channels moved into space, `(C, H, W)` to `(C/b², H*b, W*b)`.
    DepthToSpace(DepthToSpace),
    /// Blocks of pixels moved into channels, `(C, H, W)` to `(C*b², H/b, W/b)`.
    SpaceToDepth(SpaceToDepth),
    /// ONNX `Resize`, nearest or (n-)linear, with any coordinate transform.
    Resize(Resize),
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
            Layer::BatchNorm(b) => b.describe(),
            Layer::AvgPool2d(p) => p.describe(),
            Layer::AvgPool1d(p) => p.describe(),
            Layer::Pad(p) => p.describe(),
            Layer::Conv1d(c) => c.describe(),
            Layer::ConvTranspose2d(c) => c.describe(),
            Layer::Upsample(u) => u.describe(),
            Layer::Identity(_) => "Identity".into(),
            Layer::Dropout(d) => d.describe(),
            Layer::Reshape(r) => r.describe(),
            Layer::Permute(p) => p.describe(),
            Layer::Slice(s) => s.describe(),
            Layer::ScaleShift(s) => s.describe(),
            Layer::Expand(e) => e.describe(),
            Layer::Reduce(r) => r.describe(),
            Layer::DepthToSpace(d) => d.describe(),
            Layer::SpaceToDepth(s) => s.describe(),
            Layer::Resize(r) => r.describe(),
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
            Layer::BatchNorm(b) => b.num_params(),
            Layer::Conv1d(c) => c.num_params(),
            Layer::ConvTranspose2d(c) => c.num_params(),
            Layer::ScaleShift(s) => s.num_params(),
            Layer::Pad(_)
            | Layer::Flatten(_)
            | Layer::AvgPool2d(_)
            | Layer::AvgPool1d(_)
            | Layer::Upsample(_)
            | Layer::Identity(_)
            | Layer::Dropout(_)
            | Layer::Reshape(_)
            | Layer::Permute(_)
            | Layer::Slice(_)
            | Layer::Expand(_)
            | Layer::Reduce(_)
            | Layer::DepthToSpace(_)
            | Layer::SpaceToDepth(_)
            | Layer::Resize(_) => 0,
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
            Layer::BatchNorm(b) => Layer::BatchNorm(b.cast()?),
            Layer::Pad(p) => Layer::Pad(p.cast()?),
            Layer::Conv1d(c) => Layer::Conv1d(c.cast()?),
            Layer::ConvTranspose2d(c) => Layer::ConvTranspose2d(c.cast()?),
            Layer::AvgPool2d(p) => Layer::AvgPool2d(*p),
            Layer::AvgPool1d(p) => Layer::AvgPool1d(*p),
            Layer::Upsample(u) => Layer::Upsample(*u),
            Layer::Identity(i) => Layer::Identity(*i),
            Layer::Dropout(d) => Layer::Dropout(*d),
            Layer::Reshape(r) => Layer::Reshape(*r),
            Layer::Permute(p) => Layer::Permute(*p),
            Layer::Slice(s) => Layer::Slice(*s),
            Layer::ScaleShift(s) => Layer::ScaleShift(s.cast()?),
            Layer::Expand(e) => Layer::Expand(*e),
            Layer::Reduce(r) => Layer::Reduce(r.clone()),
            Layer::DepthToSpace(d) => Layer::DepthToSpace(*d),
            Layer::SpaceToDepth(s) => Layer::SpaceToDepth(*s),
            Layer::Resize(r) => Layer::Resize(r.clone()),
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

/// `From<$ty> for Layer<T>`, wrapping in the variant of the same name.
macro_rules! from_layer {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl<T> From<$ty> for Layer<T> {
            fn from(l: $ty) -> Self {
                Layer::$variant(l)
            }
        }
    )*};
}

from_layer!(
    Flatten(Flatten),
    BatchNorm(BatchNorm<T>),
    AvgPool2d(AvgPool2d),
    AvgPool1d(AvgPool1d),
    Pad(Pad<T>),
    Conv1d(Conv1d<T>),
    ConvTranspose2d(ConvTranspose2d<T>),
    Upsample(Upsample),
    Identity(Identity),
    Dropout(Dropout),
    Reshape(Reshape),
    Permute(Permute),
    Slice(Slice),
    ScaleShift(ScaleShift<T>),
    Expand(Expand),
    Reduce(Reduce),
    DepthToSpace(DepthToSpace),
    SpaceToDepth(SpaceToDepth),
    Resize(Resize),
);

/// Fails with the index (in logical order) of the first NaN or infinite value of `a`.
pub(crate) fn check_finite<T: Scalar, S: ndarray::Data<Elem = T>, D: ndarray::Dimension>(
    layer: &str,
    what: &str,
    a: &ndarray::ArrayBase<S, D>,
) -> Result<()> {
    // Fast path: one branch-free pass over memory; only a failure pays for finding the index.
    let ok = match a.as_slice_memory_order() {
        Some(s) => s.iter().fold(true, |ok, v| ok & v.finite()),
        None => a.iter().fold(true, |ok, v| ok & v.finite()),
    };
    if ok {
        return Ok(());
    }
    for (i, v) in a.iter().enumerate() {
        if !v.finite() {
            return Err(Error::invalid(
                layer,
                format!("{what} has a non-finite value ({v}) at flat index {i}"),
            ));
        }
    }
    Ok(())
}
