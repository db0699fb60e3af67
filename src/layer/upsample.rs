//! `Upsample`: nearest-neighbour upsampling by integer factors.

use crate::{Error, Result};

/// Nearest-neighbour upsampling (PyTorch's `nn.Upsample(scale_factor=..., mode="nearest")` with integer
/// factors): output `(c, y, x)` copies input `(c, y / sh, x / sw)`.
///
/// On `(C, H, W)` the output is `(C, H*sh, W*sw)`. On `(C, L)` the scale must be `[1, s]` (see
/// [`Upsample::new_1d`]) and the output is `(C, L*s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upsample {
    scale: [usize; 2],
}

impl Upsample {
    /// Upsampling of `(C, H, W)` by `[sh, sw]`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] on a zero factor.
    ///
    /// ```
    /// use linear_collapse::layer::Upsample;
    /// assert_eq!(Upsample::new([2, 3])?.scale(), [2, 3]);
    /// assert!(Upsample::new([0, 2]).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(scale: [usize; 2]) -> Result<Self> {
        if scale.contains(&0) {
            return Err(Error::invalid(
                format!("Upsample(nearest, scale {scale:?})"),
                "a scale factor must be at least 1",
            ));
        }
        Ok(Upsample { scale })
    }

    /// Upsampling of `(C, L)` by `s`: the scale `[1, s]`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `s` is zero.
    ///
    /// ```
    /// use linear_collapse::layer::Upsample;
    /// assert_eq!(Upsample::new_1d(4)?.scale(), [1, 4]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new_1d(s: usize) -> Result<Self> {
        Self::new([1, s])
    }

    /// `[sh, sw]`.
    ///
    /// ```
    /// use linear_collapse::layer::Upsample;
    /// assert_eq!(Upsample::new([2, 2])?.scale(), [2, 2]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn scale(&self) -> [usize; 2] {
        self.scale
    }

    /// Short description, e.g. `Upsample(nearest, scale [2, 2])`.
    ///
    /// ```
    /// use linear_collapse::layer::Upsample;
    /// assert_eq!(Upsample::new([2, 2])?.describe(), "Upsample(nearest, scale [2, 2])");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("Upsample(nearest, scale {:?})", self.scale)
    }
}
