//! `Permute`: reorders the axes of a sample of any rank.

use crate::{Error, Result, MAX_RANK};

/// Permutes the axes of a sample (PyTorch's `x.permute(0, 1 + d0, 1 + d1, ...)`, ONNX `Transpose` with the
/// batch axis kept first): output axis `i` is input axis `dims[i]`, so `[0, 2, 1]` swaps the height and
/// width of a `(C, H, W)` sample. It lowers to a permutation matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permute {
    rank: u8,
    dims: [usize; MAX_RANK],
}

impl Permute {
    /// The permutation `dims` of `[0, 1, ..., n - 1]`, for a sample with `n` axes (1 to [`MAX_RANK`]).
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `dims` is empty, longer than [`MAX_RANK`], or not a permutation.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new(&[0, 2, 1])?.out_dims(&[3, 4, 5]), [3, 5, 4]);
    /// assert_eq!(Permute::new(&[1, 0, 3, 2])?.out_dims(&[1, 2, 3, 4]), [2, 1, 4, 3]);
    /// assert!(Permute::new(&[0, 1, 1]).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(dims: &[usize]) -> Result<Self> {
        let bad = |reason: String| Err(Error::invalid(format!("Permute{dims:?}"), reason));
        let n = dims.len();
        if n == 0 || n > MAX_RANK {
            return bad(format!(
                "dims must name 1 to {MAX_RANK} axes, got {n} (a sample has at most {MAX_RANK} axes)"
            ));
        }
        let mut seen = [false; MAX_RANK];
        for &d in dims {
            if d >= n || std::mem::replace(&mut seen[d], true) {
                let want: Vec<usize> = (0..n).collect();
                return bad(format!("dims must be a permutation of {want:?}"));
            }
        }
        let mut all = [0; MAX_RANK];
        all[..n].copy_from_slice(dims);
        Ok(Permute {
            rank: n as u8,
            dims: all,
        })
    }

    /// Output axis `i` is input axis `dims[i]`.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new(&[2, 0, 1])?.dims(), [2, 0, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank as usize]
    }

    /// The number of axes it permutes (the rank of its input).
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new(&[1, 0])?.rank(), 2);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn rank(&self) -> usize {
        self.rank as usize
    }

    /// Whether every axis stays in place (the layer is the identity).
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert!(Permute::new(&[0, 1, 2])?.is_identity());
    /// assert!(!Permute::new(&[1, 0])?.is_identity());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn is_identity(&self) -> bool {
        self.dims().iter().enumerate().all(|(i, &d)| i == d)
    }

    /// The output dimensions for input dimensions `input`: `out[i] = input[dims[i]]`.
    ///
    /// # Panics
    /// When `input.len()` differs from [`Permute::rank`] (shape inference checks it first).
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new(&[1, 2, 0])?.out_dims(&[3, 4, 5]), [4, 5, 3]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    #[track_caller]
    pub fn out_dims(&self, input: &[usize]) -> Vec<usize> {
        assert_eq!(input.len(), self.rank(), "input rank");
        self.dims().iter().map(|&d| input[d]).collect()
    }

    /// Short description, e.g. `Permute[0, 2, 1]`.
    ///
    /// ```
    /// use linear_collapse::layer::Permute;
    /// assert_eq!(Permute::new(&[0, 2, 1])?.describe(), "Permute[0, 2, 1]");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("Permute{:?}", self.dims())
    }
}
