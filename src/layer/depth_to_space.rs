//! `DepthToSpace`: blocks of channels moved into space.

use crate::{Error, Result};

/// How [`DepthToSpace`] reads the channels of a block (ONNX's `mode` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthToSpaceMode {
    /// Depth, column, row (ONNX's default): channel `(by*b + bx)*C' + c` goes to `(c, y*b + by, x*b + bx)`.
    Dcr,
    /// Column, row, depth (PyTorch's `pixel_shuffle`): channel `c*b*b + by*b + bx` goes there.
    Crd,
}

/// Moves blocks of `block x block` channels into space: `(C, H, W)` to `(C/b², H*b, W*b)`, as ONNX defines
/// it by a reshape and a transpose.
///
/// - DCR: reshape to `(b, b, C/b², H, W)`, transpose `(2, 3, 0, 4, 1)`, reshape to `(C/b², H*b, W*b)`;
/// - CRD: reshape to `(C/b², b, b, H, W)`, transpose `(0, 3, 1, 4, 2)`, the same last reshape (PyTorch's
///   `nn.PixelShuffle(b)`).
///
/// It lowers to a permutation matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthToSpace {
    block: usize,
    mode: DepthToSpaceMode,
}

impl DepthToSpace {
    /// Blocks of `block x block`; shape inference checks `block²` divides the channels.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `block` is 0.
    ///
    /// ```
    /// use linear_collapse::layer::{DepthToSpace, DepthToSpaceMode};
    /// let d = DepthToSpace::new(2, DepthToSpaceMode::Crd)?;
    /// assert_eq!((d.block(), d.mode()), (2, DepthToSpaceMode::Crd));
    /// assert!(DepthToSpace::new(0, DepthToSpaceMode::Dcr).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(block: usize, mode: DepthToSpaceMode) -> Result<Self> {
        let d = DepthToSpace { block, mode };
        if block == 0 {
            return Err(Error::invalid(d.describe(), "block must be at least 1"));
        }
        Ok(d)
    }

    /// The block size `b`.
    ///
    /// ```
    /// use linear_collapse::layer::{DepthToSpace, DepthToSpaceMode};
    /// assert_eq!(DepthToSpace::new(3, DepthToSpaceMode::Dcr)?.block(), 3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn block(&self) -> usize {
        self.block
    }

    /// DCR or CRD.
    ///
    /// ```
    /// use linear_collapse::layer::{DepthToSpace, DepthToSpaceMode};
    /// assert_eq!(DepthToSpace::new(2, DepthToSpaceMode::Dcr)?.mode(), DepthToSpaceMode::Dcr);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn mode(&self) -> DepthToSpaceMode {
        self.mode
    }

    /// Short description, e.g. `DepthToSpace(block 2, DCR)`.
    ///
    /// ```
    /// use linear_collapse::layer::{DepthToSpace, DepthToSpaceMode};
    /// assert_eq!(DepthToSpace::new(2, DepthToSpaceMode::Crd)?.describe(), "DepthToSpace(block 2, CRD)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            DepthToSpaceMode::Dcr => "DCR",
            DepthToSpaceMode::Crd => "CRD",
        };
        format!("DepthToSpace(block {}, {mode})", self.block)
    }
}
