//! The two floating-point types the library computes in.

use std::fmt::{Debug, Display};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: the element type of weights and of every intermediate product.
///
/// Sealed: the kernels dispatch to `matrixmultiply`'s `sgemm`/`dgemm`, and LAPACK (through
/// `ndarray-linalg`) exists for these two types only.
pub trait Scalar:
    ndarray::LinalgScalar
    + ndarray_linalg::Lapack<Real = Self>
    + PartialOrd
    + std::ops::AddAssign
    + std::ops::MulAssign
    + Debug
    + Display
    + Send
    + Sync
    + sealed::Sealed
{
    /// Machine epsilon of the type.
    const EPSILON: Self;
    /// Name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Rounds an `f64` to this type.
    fn narrow(v: f64) -> Self;
    /// Widens (or keeps) this value as an `f64`.
    fn widen(self) -> f64;
    /// True unless NaN or infinite.
    fn finite(self) -> bool;
}

macro_rules! impl_scalar {
    ($t:ty, $name:literal) => {
        impl Scalar for $t {
            const EPSILON: Self = <$t>::EPSILON;
            const NAME: &'static str = $name;

            #[inline]
            fn narrow(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn widen(self) -> f64 {
                self as f64
            }
            #[inline]
            fn finite(self) -> bool {
                self.is_finite()
            }
        }
    };
}

impl_scalar!(f32, "f32");
impl_scalar!(f64, "f64");
