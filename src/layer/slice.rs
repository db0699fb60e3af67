//! `Slice`: every `step`-th element along one axis, from `start`, `len` of them.

use crate::{Error, Result, MAX_RANK};

/// Takes input indices `start + i*step`, `i` in `0..len`, along one axis of the sample (ONNX `Slice` with
/// one axis, already resolved against the input's size; PyTorch's `x[:, ..., start:stop:step]`). A
/// negative `step` walks backward, as ONNX allows: `start 3, step -1, len 4` reverses an axis of 4. It
/// lowers to a selection matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    axis: usize,
    start: usize,
    step: isize,
    len: usize,
}

// `new` rejects `len == 0`, so a slice is never empty: `is_empty` would always say `false`.
#[allow(clippy::len_without_is_empty)]
impl Slice {
    /// The slice of per-sample axis `axis`; shape inference checks every index lies inside that axis.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `len` is 0, `step` is 0, `axis` is not below [`MAX_RANK`], or the last
    /// index `start + (len - 1)*step` is negative or overflows.
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// let s = Slice::new(1, 4, -2, 3)?; // indices 4, 2, 0 of axis 1
    /// assert_eq!((s.axis(), s.start(), s.step(), s.len()), (1, 4, -2, 3));
    /// assert!(Slice::new(0, 1, -1, 3).is_err()); // would read index -1
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(axis: usize, start: usize, step: isize, len: usize) -> Result<Self> {
        let s = Slice {
            axis,
            start,
            step,
            len,
        };
        let bad = |reason: String| Err(Error::invalid(s.describe(), reason));
        if len == 0 {
            return bad("len must be at least 1".into());
        }
        if step == 0 {
            return bad("step must not be 0".into());
        }
        if axis >= MAX_RANK {
            return bad(format!(
                "axis {axis} does not exist: a sample has at most {MAX_RANK} axes"
            ));
        }
        let last = start as i128 + (len as i128 - 1) * step as i128;
        if last < 0 || last > usize::MAX as i128 {
            return bad(format!(
                "the last index start + (len - 1)*step = {last} is outside 0..={}",
                usize::MAX
            ));
        }
        Ok(s)
    }

    /// The per-sample axis it slices.
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// assert_eq!(Slice::new(2, 0, 1, 1)?.axis(), 2);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn axis(&self) -> usize {
        self.axis
    }

    /// The first input index it takes.
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// assert_eq!(Slice::new(0, 3, 1, 2)?.start(), 3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn start(&self) -> usize {
        self.start
    }

    /// The distance between the input indices it takes (negative: backward).
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// assert_eq!(Slice::new(0, 3, -1, 4)?.step(), -1);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn step(&self) -> isize {
        self.step
    }

    /// How many indices it takes: the output's size along `axis`.
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// assert_eq!(Slice::new(0, 0, 2, 5)?.len(), 5);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// The input index of output index `i` along the axis, `start + i*step`; `None` when `i` is not below
    /// [`Slice::len`].
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// let s = Slice::new(0, 4, -2, 3)?;
    /// assert_eq!((s.input_index(0), s.input_index(2), s.input_index(3)), (Some(4), Some(0), None));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn input_index(&self, i: usize) -> Option<usize> {
        // in range by `new`: every index lies between `start` and the last one
        (i < self.len).then(|| (self.start as i128 + i as i128 * self.step as i128) as usize)
    }

    /// The smallest and largest input index it reads, `(low, high)`.
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// assert_eq!(Slice::new(0, 4, -2, 3)?.input_range(), (0, 4));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn input_range(&self) -> (usize, usize) {
        let last = self.input_index(self.len - 1).expect("len >= 1");
        (self.start.min(last), self.start.max(last))
    }

    /// Short description, e.g. `Slice(axis 1, start 4, step -2, len 3)`.
    ///
    /// ```
    /// use linear_collapse::layer::Slice;
    /// assert_eq!(Slice::new(1, 4, -2, 3)?.describe(), "Slice(axis 1, start 4, step -2, len 3)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!(
            "Slice(axis {}, start {}, step {}, len {})",
            self.axis, self.start, self.step, self.len
        )
    }
}
