//! Nonlinearities: the operations that are not affine, so they end a linear run.

use super::Geometry2d;
use crate::Shape;

/// An operation that is not affine: it ends a linear run.
#[derive(Clone, Debug, PartialEq)]
pub enum Nonlinear {
    /// `max(x, 0)`.
    Relu,
    /// `x` if positive, else `slope * x`.
    LeakyRelu(f64),
    /// `x * Phi(x)` (the exact, erf-based GELU).
    Gelu,
    /// `x * sigmoid(x)`.
    Silu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// Softmax over the whole (flat) sample.
    Softmax,
    /// Max pooling over `(C, H, W)` with this geometry.
    MaxPool2d(Geometry2d),
    /// Anything else, reading any number of values.
    Other {
        /// Name of the operation, for reports.
        name: String,
        /// Its output shape; `None` when it is not known before the model runs (no linear node may then
        /// read it).
        output: Option<Shape>,
    },
}
