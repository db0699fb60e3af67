//! `SpaceToDepth`: blocks of pixels moved into channels.

use crate::{Error, Result};

/// Moves `block x block` blocks of pixels into channels: `(C, H, W)` to `(C*b², H/b, W/b)`, as ONNX defines
/// it: reshape to `(C, H/b, b, W/b, b)`, transpose `(2, 4, 0, 1, 3)`, reshape to `(C*b², H/b, W/b)` (the
/// inverse of [`super::DepthToSpace`] in DCR mode). It lowers to a permutation matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceToDepth {
    block: usize,
}

impl SpaceToDepth {
    /// Blocks of `block x block`; shape inference checks `block` divides the height and the width.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `block` is 0.
    ///
    /// ```
    /// use linear_collapse::layer::SpaceToDepth;
    /// assert_eq!(SpaceToDepth::new(2)?.block(), 2);
    /// assert!(SpaceToDepth::new(0).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(block: usize) -> Result<Self> {
        let s = SpaceToDepth { block };
        if block == 0 {
            return Err(Error::invalid(s.describe(), "block must be at least 1"));
        }
        Ok(s)
    }

    /// The block size `b`.
    ///
    /// ```
    /// use linear_collapse::layer::SpaceToDepth;
    /// assert_eq!(SpaceToDepth::new(4)?.block(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn block(&self) -> usize {
        self.block
    }

    /// Short description, e.g. `SpaceToDepth(block 2)`.
    ///
    /// ```
    /// use linear_collapse::layer::SpaceToDepth;
    /// assert_eq!(SpaceToDepth::new(2)?.describe(), "SpaceToDepth(block 2)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("SpaceToDepth(block {})", self.block)
    }
}
