//! `Reshape`: a new shape with the same number of elements; the C-order flat index is unchanged.

use crate::{Error, Result, Shape};

/// Reshapes a sample to `shape` (PyTorch's `x.reshape(N, *shape)`, ONNX `Reshape`). The flat index of
/// every element stays the same, so it lowers to the identity matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reshape {
    shape: Shape,
}

impl Reshape {
    /// A reshape to `shape`; shape inference checks the element counts agree.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `shape` has a zero dimension.
    ///
    /// ```
    /// use linear_collapse::{layer::Reshape, Shape};
    /// assert_eq!(Reshape::new(Shape::cl(4, 25))?.shape(), Shape::cl(4, 25));
    /// assert!(Reshape::new(Shape::chw(4, 0, 2)).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(shape: Shape) -> Result<Self> {
        if shape.dims().contains(&0) {
            return Err(Error::invalid(
                format!("Reshape{shape}"),
                "the target shape has a zero dimension",
            ));
        }
        Ok(Reshape { shape })
    }

    /// The target shape.
    ///
    /// ```
    /// use linear_collapse::{layer::Reshape, Shape};
    /// assert_eq!(Reshape::new(Shape::flat(8))?.shape(), Shape::flat(8));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Short description, e.g. `Reshape(4, 25)`.
    ///
    /// ```
    /// use linear_collapse::{layer::Reshape, Shape};
    /// assert_eq!(Reshape::new(Shape::cl(4, 25))?.describe(), "Reshape(4, 25)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("Reshape{}", self.shape)
    }
}
