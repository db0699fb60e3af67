//! `Permute`: reorders the axes of `(C, H, W)`.

use crate::{Error, Result};

/// Permutes the axes of a `(C, H, W)` sample (PyTorch's `x.permute(0, 1 + d0, 1 + d1, 1 + d2)`, ONNX
/// `Transpose`): output axis `i` is input axis `dims[i]`, so `[0, 2, 1]` swaps height and width. It lowers
/// to a permutation matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permute {
    dims: [usize; 3],
}

impl Permute {
    /// The permutation `dims` of `[0, 1, 2]`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `dims` is not a permutation of `[0, 1, 2]`.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new([0, 2, 1])?.out_dims([3, 4, 5]), [3, 5, 4]);
    /// assert!(Permute::new([0, 1, 1]).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(dims: [usize; 3]) -> Result<Self> {
        let mut sorted = dims;
        sorted.sort_unstable();
        if sorted != [0, 1, 2] {
            return Err(Error::invalid(
                format!("Permute{dims:?}"),
                "dims must be a permutation of [0, 1, 2]",
            ));
        }
        Ok(Permute { dims })
    }

    /// Output axis `i` is input axis `dims[i]`.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new([2, 0, 1])?.dims(), [2, 0, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// The output dimensions for input dimensions `[c, h, w]`: `out[i] = in[dims[i]]`.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new([1, 2, 0])?.out_dims([3, 4, 5]), [4, 5, 3]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn out_dims(&self, input: [usize; 3]) -> [usize; 3] {
        self.dims.map(|d| input[d])
    }

    /// Short description, e.g. `Permute[0, 2, 1]`.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new([0, 2, 1])?.describe(), "Permute[0, 2, 1]");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("Permute{:?}", self.dims)
    }
}
