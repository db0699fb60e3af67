//! Per-sample tensor shapes and the flat-index convention.
//!
//! A sample of shape `(C, H, W)` is flattened in C order: element `(c, y, x)` sits at `c*H*W + y*W + x`
//! (PyTorch's `flatten(1)`). Batches are outside the maths.

use std::fmt;

/// The shape of one sample (no batch dimension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// An image: channels, height, width.
    Chw {
        /// Channels.
        c: usize,
        /// Height.
        h: usize,
        /// Width.
        w: usize,
    },
    /// A sequence: channels, length (the input of a 1-d convolution).
    Cl {
        /// Channels.
        c: usize,
        /// Length.
        l: usize,
    },
    /// A flat vector.
    Flat(usize),
}

impl Shape {
    /// An image shape `(c, h, w)`.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::chw(5, 13, 13).numel(), 845);
    /// ```
    pub const fn chw(c: usize, h: usize, w: usize) -> Self {
        Shape::Chw { c, h, w }
    }

    /// A sequence shape `(c, l)`.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::cl(4, 32).numel(), 128);
    /// ```
    pub const fn cl(c: usize, l: usize) -> Self {
        Shape::Cl { c, l }
    }

    /// A flat shape `(n,)`.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::flat(10).to_string(), "(10)");
    /// ```
    pub const fn flat(n: usize) -> Self {
        Shape::Flat(n)
    }

    /// Number of elements (saturating, so absurd shapes never overflow).
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::chw(3, 32, 32).numel(), 3072);
    /// ```
    pub fn numel(&self) -> usize {
        self.dims()
            .iter()
            .fold(1usize, |acc, &d| acc.saturating_mul(d))
    }

    /// The dimensions as a slice-like vector, e.g. `[c, h, w]`.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::chw(3, 4, 5).dims(), vec![3, 4, 5]);
    /// ```
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Chw { c, h, w } => vec![c, h, w],
            Shape::Cl { c, l } => vec![c, l],
            Shape::Flat(n) => vec![n],
        }
    }

    /// The shape with these dimensions: 1 → flat, 2 → `(c, l)`, 3 → `(c, h, w)`; `None` otherwise.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::from_dims(&[5, 13, 13]), Some(Shape::chw(5, 13, 13)));
    /// assert_eq!(Shape::from_dims(&[1, 2, 3, 4]), None);
    /// ```
    pub fn from_dims(dims: &[usize]) -> Option<Self> {
        match *dims {
            [n] => Some(Shape::Flat(n)),
            [c, l] => Some(Shape::Cl { c, l }),
            [c, h, w] => Some(Shape::Chw { c, h, w }),
            _ => None,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self.dims().iter().map(|d| d.to_string()).collect();
        write!(f, "({})", dims.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_numel() {
        assert_eq!(Shape::chw(50, 5, 5).to_string(), "(50, 5, 5)");
        assert_eq!(Shape::chw(50, 5, 5).numel(), 1250);
        assert_eq!(Shape::chw(usize::MAX, 2, 2).numel(), usize::MAX);
    }
}
