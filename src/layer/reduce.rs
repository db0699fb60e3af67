//! `Reduce`: the mean or the sum over some axes of the sample.

use crate::{Error, Result, MAX_RANK};

/// What a [`Reduce`] computes over its axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    /// The mean (ONNX `ReduceMean`).
    Mean,
    /// The sum (ONNX `ReduceSum`).
    Sum,
}

/// The mean or the sum over per-sample `axes` (ONNX `ReduceMean`/`ReduceSum` with constant axes, none of
/// them the batch; PyTorch's `x.mean(dim, keepdim)`). With `keepdims` each reduced axis stays, of size 1;
/// without, it is removed, so reducing every axis gives a sample with no axis. It lowers to a sparse matrix
/// of `1/n` (mean of `n` elements) or 1 (sum).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduce {
    op: ReduceOp,
    axes: Vec<usize>,
    keepdims: bool,
}

impl Reduce {
    /// The reduction over `axes` (in any order; kept sorted).
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `axes` is empty, names an axis twice, or names one not below
    /// [`MAX_RANK`]. Shape inference checks each axis exists in the input.
    ///
    /// ```
    /// use linear_collapse::layer::{Reduce, ReduceOp};
    /// let r = Reduce::new(ReduceOp::Mean, vec![2, 1], true)?;
    /// assert_eq!(r.axes(), [1, 2]);
    /// assert!(Reduce::new(ReduceOp::Sum, vec![1, 1], false).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(op: ReduceOp, mut axes: Vec<usize>, keepdims: bool) -> Result<Self> {
        let name = Reduce {
            op,
            axes: axes.clone(),
            keepdims,
        }
        .describe();
        if axes.is_empty() {
            return Err(Error::invalid(name, "axes must name at least one axis"));
        }
        if let Some(a) = axes.iter().find(|&&a| a >= MAX_RANK) {
            return Err(Error::invalid(
                name,
                format!("axis {a} does not exist: a sample has at most {MAX_RANK} axes"),
            ));
        }
        axes.sort_unstable();
        if let Some(w) = axes.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::invalid(
                name,
                format!("axis {} is named twice", w[0]),
            ));
        }
        Ok(Reduce { op, axes, keepdims })
    }

    /// Mean or sum.
    ///
    /// ```
    /// use linear_collapse::layer::{Reduce, ReduceOp};
    /// assert_eq!(Reduce::new(ReduceOp::Sum, vec![0], false)?.op(), ReduceOp::Sum);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn op(&self) -> ReduceOp {
        self.op
    }

    /// The per-sample axes reduced, sorted.
    ///
    /// ```
    /// use linear_collapse::layer::{Reduce, ReduceOp};
    /// assert_eq!(Reduce::new(ReduceOp::Mean, vec![2, 0], false)?.axes(), [0, 2]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn axes(&self) -> &[usize] {
        &self.axes
    }

    /// Whether the reduced axes stay (as size 1).
    ///
    /// ```
    /// use linear_collapse::layer::{Reduce, ReduceOp};
    /// assert!(Reduce::new(ReduceOp::Mean, vec![1], true)?.keepdims());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn keepdims(&self) -> bool {
        self.keepdims
    }

    /// Short description, e.g. `ReduceMean(axes [1, 2], keepdims)`.
    ///
    /// ```
    /// use linear_collapse::layer::{Reduce, ReduceOp};
    /// let r = Reduce::new(ReduceOp::Mean, vec![1, 2], true)?;
    /// assert_eq!(r.describe(), "ReduceMean(axes [1, 2], keepdims)");
    /// let r = Reduce::new(ReduceOp::Sum, vec![0], false)?;
    /// assert_eq!(r.describe(), "ReduceSum(axes [0])");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let op = match self.op {
            ReduceOp::Mean => "ReduceMean",
            ReduceOp::Sum => "ReduceSum",
        };
        let keep = if self.keepdims { ", keepdims" } else { "" };
        format!("{op}(axes {:?}{keep})", self.axes)
    }
}
