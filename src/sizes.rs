//! The benchmark cases of the design document (section 6): `Conv2d -> Flatten -> Linear` at five sizes,
//! with seeded random weights, so benches, examples and tests build the same chains.

use ndarray::{Array1, Array2, Array4};

use crate::layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear};
use crate::rng::SplitMix64;
use crate::{Result, Scalar, Shape};

/// One benchmark case: input `(c_in, h, w)`, a convolution, and a Linear with `fc_out` outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Name, as in the design document.
    pub name: &'static str,
    /// Input channels.
    pub c_in: usize,
    /// Input height and width.
    pub hw: [usize; 2],
    /// Output channels of the convolution.
    pub c_out: usize,
    /// Square kernel size.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Symmetric padding.
    pub padding: usize,
    /// Outputs of the Linear.
    pub fc_out: usize,
}

/// The five cases: seed, mnist, cifar, wide, big.
pub const SIZES: [Size; 5] = [
    Size {
        name: "seed",
        c_in: 5,
        hw: [13, 13],
        c_out: 50,
        k: 5,
        stride: 2,
        padding: 0,
        fc_out: 100,
    },
    Size {
        name: "mnist",
        c_in: 1,
        hw: [28, 28],
        c_out: 32,
        k: 5,
        stride: 1,
        padding: 2,
        fc_out: 10,
    },
    Size {
        name: "cifar",
        c_in: 3,
        hw: [32, 32],
        c_out: 64,
        k: 3,
        stride: 1,
        padding: 1,
        fc_out: 10,
    },
    Size {
        name: "wide",
        c_in: 16,
        hw: [32, 32],
        c_out: 64,
        k: 3,
        stride: 2,
        padding: 1,
        fc_out: 256,
    },
    Size {
        name: "big",
        c_in: 3,
        hw: [64, 64],
        c_out: 64,
        k: 3,
        stride: 1,
        padding: 1,
        fc_out: 100,
    },
];

impl Size {
    /// The case called `name`, if any.
    ///
    /// ```
    /// assert_eq!(linear_collapse::sizes::Size::named("cifar").unwrap().c_out, 64);
    /// ```
    pub fn named(name: &str) -> Option<Size> {
        SIZES.iter().copied().find(|s| s.name == name)
    }

    /// The input shape.
    pub fn input(&self) -> Shape {
        Shape::chw(self.c_in, self.hw[0], self.hw[1])
    }

    /// The chain with weights uniform in `±1/sqrt(fan_in)` (PyTorch's default scale), seeded.
    ///
    /// # Errors
    /// Never for the built-in sizes; [`crate::Error`] if a custom size does not fit.
    ///
    /// ```
    /// use linear_collapse::sizes::Size;
    /// let chain = Size::named("seed").unwrap().chain::<f32>(0)?;
    /// assert_eq!(chain.len(), 3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn chain<T: Scalar>(&self, seed: u64) -> Result<Vec<Layer<T>>> {
        let mut rng = SplitMix64::new(seed);
        let mut u = |fan_in: usize| T::narrow(rng.uniform() / (fan_in as f64).sqrt());
        let fan = self.c_in * self.k * self.k;
        let conv = Conv2d::new(
            Array4::from_shape_simple_fn((self.c_out, self.c_in, self.k, self.k), || u(fan)),
            Some(Array1::from_shape_simple_fn(self.c_out, || u(fan))),
            Conv2dConfig::default()
                .stride(self.stride)
                .padding(self.padding),
        )?;
        let n_mid =
            crate::infer::output_shape(0, &Layer::Conv2d(conv.clone()), self.input())?.numel();
        let fc = Linear::new(
            Array2::from_shape_simple_fn((self.fc_out, n_mid), || u(n_mid)),
            Some(Array1::from_shape_simple_fn(self.fc_out, || u(n_mid))),
        )?;
        Ok(vec![conv.into(), Flatten.into(), fc.into()])
    }
}
