//! Per-sample tensor shapes and the flat-index convention.
//!
//! A sample of shape `(C, H, W)` is flattened in C order: element `(c, y, x)` sits at `c*H*W + y*W + x`
//! (PyTorch's `flatten(1)`). Batches are outside the maths.

use std::fmt;

/// The most axes a sample may have (its tensor has one more, the batch axis).
pub const MAX_RANK: usize = 7;

/// The dimensions of a sample with no axis or with 4 to [`MAX_RANK`] axes (the other ranks have their own
/// [`Shape`] variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    rank: u8,
    dims: [usize; MAX_RANK],
}

impl Dims {
    /// The dimensions, outermost first.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// let Some(Shape::Nd(d)) = Shape::from_dims(&[2, 3, 4, 5]) else { unreachable!() };
    /// assert_eq!(d.as_slice(), &[2, 3, 4, 5]);
    /// ```
    pub fn as_slice(&self) -> &[usize] {
        &self.dims[..self.rank as usize]
    }
}

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
    /// Any other rank: a scalar (no axis) or 4 to [`MAX_RANK`] axes (a channel shuffle's `(G, C/G, H, W)`,
    /// say). Build it with [`Shape::from_dims`].
    Nd(Dims),
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
            Shape::Nd(d) => d.as_slice().to_vec(),
        }
    }

    /// The number of axes.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::cl(3, 4).rank(), 2);
    /// assert_eq!(Shape::from_dims(&[]).unwrap().rank(), 0);
    /// ```
    pub fn rank(&self) -> usize {
        match self {
            Shape::Chw { .. } => 3,
            Shape::Cl { .. } => 2,
            Shape::Flat(_) => 1,
            Shape::Nd(d) => d.rank as usize,
        }
    }

    /// The shape with these dimensions: 1 → flat, 2 → `(c, l)`, 3 → `(c, h, w)`, none or 4 to
    /// [`MAX_RANK`] → [`Shape::Nd`]; `None` for more axes.
    ///
    /// ```
    /// use linear_collapse::Shape;
    /// assert_eq!(Shape::from_dims(&[5, 13, 13]), Some(Shape::chw(5, 13, 13)));
    /// assert_eq!(Shape::from_dims(&[1, 2, 3, 4]).unwrap().dims(), [1, 2, 3, 4]);
    /// assert_eq!(Shape::from_dims(&[1; 8]), None);
    /// ```
    pub fn from_dims(dims: &[usize]) -> Option<Self> {
        match *dims {
            [n] => Some(Shape::Flat(n)),
            [c, l] => Some(Shape::Cl { c, l }),
            [c, h, w] => Some(Shape::Chw { c, h, w }),
            _ if dims.len() <= MAX_RANK => {
                let mut d = [0; MAX_RANK];
                d[..dims.len()].copy_from_slice(dims);
                Some(Shape::Nd(Dims {
                    rank: dims.len() as u8,
                    dims: d,
                }))
            }
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
        let nd = Shape::from_dims(&[2, 3, 4, 5]).unwrap();
        assert_eq!(
            (nd.to_string(), nd.numel(), nd.rank()),
            ("(2, 3, 4, 5)".into(), 120, 4)
        );
        let scalar = Shape::from_dims(&[]).unwrap();
        assert_eq!((scalar.to_string(), scalar.numel()), ("()".into(), 1));
    }

    #[test]
    fn each_rank_has_one_spelling() {
        for rank in 0..=MAX_RANK {
            let dims: Vec<usize> = (1..=rank).collect();
            let s = Shape::from_dims(&dims).unwrap();
            assert_eq!((s.dims(), s.rank()), (dims.clone(), rank));
            assert_eq!(matches!(s, Shape::Nd(_)), rank == 0 || rank > 3);
        }
    }
}
