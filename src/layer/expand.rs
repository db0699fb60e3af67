//! `Expand`: a sample broadcast to a larger shape (NumPy rules).

use crate::{Error, Result, Shape};

/// Broadcasts a sample to `shape` (ONNX `Expand` with the output's per-sample shape; PyTorch's
/// `x.expand(N, *shape)`): the input's axes line up with the target's last ones, and each is either the
/// target's size or 1 (repeated). It lowers to a selection matrix whose rows repeat columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expand {
    shape: Shape,
}

impl Expand {
    /// A broadcast to `shape`; shape inference checks the input broadcasts to it.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `shape` has a zero dimension.
    ///
    /// ```
    /// use linear_collapse::{layer::Expand, Shape};
    /// assert_eq!(Expand::new(Shape::chw(3, 4, 5))?.shape(), Shape::chw(3, 4, 5));
    /// assert!(Expand::new(Shape::cl(0, 2)).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(shape: Shape) -> Result<Self> {
        if shape.dims().contains(&0) {
            return Err(Error::invalid(
                format!("Expand{shape}"),
                "the target shape has a zero dimension",
            ));
        }
        Ok(Expand { shape })
    }

    /// The target shape (the output's).
    ///
    /// ```
    /// use linear_collapse::{layer::Expand, Shape};
    /// assert_eq!(Expand::new(Shape::flat(8))?.shape(), Shape::flat(8));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Short description, e.g. `Expand(2, 3, 4)`.
    ///
    /// ```
    /// use linear_collapse::{layer::Expand, Shape};
    /// assert_eq!(Expand::new(Shape::chw(2, 3, 4))?.describe(), "Expand(2, 3, 4)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("Expand{}", self.shape)
    }
}
