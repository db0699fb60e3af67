//! `Conv1d`: a 1-d convolution over `(C, L)`, held as the equivalent [`Conv2d`] on `(C, 1, L)`.

use ndarray::{Array1, Array3, ArrayView3, Axis};

use super::{Conv2d, Conv2dConfig};
use crate::{Error, Result, Scalar};

/// The hyper-parameters of a [`Conv1d`], in PyTorch's vocabulary (the kernel size comes from the weight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dConfig {
    /// Step between output positions.
    pub stride: usize,
    /// Spacing between taps.
    pub dilation: usize,
    /// Zero padding `[left, right]`; PyTorch's `padding=p` is `[p, p]`.
    pub padding: [usize; 2],
    /// Number of groups; divides both channel counts.
    pub groups: usize,
}

impl Default for Conv1dConfig {
    fn default() -> Self {
        Conv1dConfig {
            stride: 1,
            dilation: 1,
            padding: [0; 2],
            groups: 1,
        }
    }
}

impl Conv1dConfig {
    /// Sets the stride.
    ///
    /// ```
    /// use linear_collapse::layer::Conv1dConfig;
    /// assert_eq!(Conv1dConfig::default().stride(2).stride, 2);
    /// ```
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }

    /// PyTorch's symmetric `padding=p`.
    ///
    /// ```
    /// use linear_collapse::layer::Conv1dConfig;
    /// assert_eq!(Conv1dConfig::default().padding(1).padding, [1, 1]);
    /// ```
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = [p; 2];
        self
    }

    /// Sets the dilation.
    ///
    /// ```
    /// use linear_collapse::layer::Conv1dConfig;
    /// assert_eq!(Conv1dConfig::default().dilation(3).dilation, 3);
    /// ```
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = d;
        self
    }

    /// Sets the number of groups.
    ///
    /// ```
    /// use linear_collapse::layer::Conv1dConfig;
    /// assert_eq!(Conv1dConfig::default().groups(2).groups, 2);
    /// ```
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// A 1-d convolution (PyTorch's `nn.Conv1d`), weight `(C_out, C_in/groups, k)`.
///
/// It is stored as the [`Conv2d`] with weight `(C_out, C_in/groups, 1, k)`, stride `[1, s]`, dilation
/// `[1, d]` and padding `[0, left, 0, right]`, which computes the same on `(C, 1, L)`: `(C, L)` and
/// `(C, 1, L)` have the same flat index, so lowering reuses the Conv2d Toeplitz matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv1d<T> {
    conv: Conv2d<T>,
}

impl<T: Scalar> Conv1d<T> {
    /// Builds a convolution from its weight `(C_out, C_in/groups, k)`, optional bias `(C_out,)` and
    /// hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] on a zero dimension, stride or dilation, `groups` not dividing `C_out`, a bias
    /// of the wrong length, or a NaN or infinite weight.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::zeros((8, 4, 5)), None, Conv1dConfig::default().stride(2))?;
    /// assert_eq!((conv.c_in(), conv.c_out(), conv.kernel_size()), (4, 8, 5));
    /// let bad = Conv1dConfig::default().stride(0);
    /// assert!(Conv1d::new(Array3::<f32>::zeros((8, 4, 5)), None, bad).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(weight: Array3<T>, bias: Option<Array1<T>>, config: Conv1dConfig) -> Result<Self> {
        let (c_out, c_in_g, k) = weight.dim();
        let name = format!(
            "Conv1d({}->{c_out}, k{k}, groups {})",
            c_in_g.saturating_mul(config.groups),
            config.groups
        );
        let checks = [
            (k, "kernel size"),
            (config.stride, "stride"),
            (config.dilation, "dilation"),
        ];
        for (v, what) in checks {
            if v == 0 {
                return Err(Error::invalid(name, format!("{what} must be at least 1")));
            }
        }
        let [left, right] = config.padding;
        let config2d = Conv2dConfig {
            stride: [1, config.stride],
            dilation: [1, config.dilation],
            padding: [0, left, 0, right],
            groups: config.groups,
        };
        let weight = weight.insert_axis(Axis(2));
        // The remaining checks (channels, groups, bias, finite values) are the Conv2d's: keep their
        // reasons, which read the same in 1-d, under this layer's name.
        let conv = Conv2d::new(weight, bias, config2d).map_err(|e| match e {
            Error::InvalidLayer { reason, .. } => Error::invalid(&name, reason),
            other => other,
        })?;
        Ok(Conv1d { conv })
    }

    /// The weight `(C_out, C_in/groups, k)`.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::ones((2, 1, 3)), None, Conv1dConfig::default())?;
    /// assert_eq!(conv.weight().dim(), (2, 1, 3));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn weight(&self) -> ArrayView3<'_, T> {
        self.conv.weight().index_axis(Axis(2), 0)
    }

    /// The bias, if any.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::{array, Array3};
    /// let conv = Conv1d::new(Array3::<f32>::ones((1, 1, 3)), Some(array![0.5]), Conv1dConfig::default())?;
    /// assert_eq!(conv.bias(), Some(&array![0.5]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn bias(&self) -> Option<&Array1<T>> {
        self.conv.bias()
    }

    /// The hyper-parameters.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let config = Conv1dConfig::default().stride(2).padding(1);
    /// assert_eq!(Conv1d::new(Array3::<f32>::ones((1, 1, 3)), None, config)?.config(), config);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn config(&self) -> Conv1dConfig {
        let c = self.conv.config();
        Conv1dConfig {
            stride: c.stride[1],
            dilation: c.dilation[1],
            padding: [c.padding[1], c.padding[3]],
            groups: c.groups,
        }
    }

    /// Number of groups.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::ones((4, 1, 3)), None, Conv1dConfig::default().groups(2))?;
    /// assert_eq!((conv.groups(), conv.c_in()), (2, 2));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn groups(&self) -> usize {
        self.conv.groups()
    }

    /// Input channels.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// assert_eq!(Conv1d::new(Array3::<f32>::ones((4, 3, 1)), None, Conv1dConfig::default())?.c_in(), 3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn c_in(&self) -> usize {
        self.conv.c_in()
    }

    /// Output channels.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// assert_eq!(Conv1d::new(Array3::<f32>::ones((4, 3, 1)), None, Conv1dConfig::default())?.c_out(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn c_out(&self) -> usize {
        self.conv.c_out()
    }

    /// Kernel length `k`.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::ones((1, 1, 7)), None, Conv1dConfig::default())?;
    /// assert_eq!(conv.kernel_size(), 7);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn kernel_size(&self) -> usize {
        self.conv.geometry().kernel[1]
    }

    /// Output length for an input of length `l`, or `None` when the dilated kernel does not fit the padded
    /// input: `floor((l + left + right - d*(k-1) - 1) / s) + 1`.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let config = Conv1dConfig::default().stride(2).padding(1);
    /// let conv = Conv1d::new(Array3::<f32>::ones((8, 4, 5)), None, config)?;
    /// assert_eq!(conv.out_len(32), Some(15));
    /// assert_eq!(conv.out_len(2), None);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn out_len(&self, l: usize) -> Option<usize> {
        Some(self.conv.geometry().out_dims([1, l])?[1])
    }

    /// The equivalent [`Conv2d`] on `(C, 1, L)`, borrowed.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::ones((2, 1, 3)), None, Conv1dConfig::default().padding(1))?;
    /// assert_eq!(conv.as_conv2d().geometry().padding, [0, 1, 0, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn as_conv2d(&self) -> &Conv2d<T> {
        &self.conv
    }

    /// The equivalent [`Conv2d`] on `(C, 1, L)`: weight `(C_out, C_in/groups, 1, k)`, stride `[1, s]`,
    /// dilation `[1, d]`, padding `[0, left, 0, right]`.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::ones((2, 1, 3)), None, Conv1dConfig::default().stride(2))?;
    /// let c2 = conv.to_conv2d();
    /// assert_eq!((c2.weight().dim(), c2.geometry().stride), ((2, 1, 1, 3), [1, 2]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn to_conv2d(&self) -> Conv2d<T> {
        self.conv.clone()
    }

    /// The same layer in another precision.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a weight overflows `U`.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let conv = Conv1d::new(Array3::<f32>::ones((2, 1, 3)), None, Conv1dConfig::default())?;
    /// assert_eq!(conv.cast::<f64>()?.weight()[[0, 0, 0]], 1.0);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<Conv1d<U>> {
        let cv = |x: &T| U::narrow(x.widen());
        Conv1d::new(
            self.weight().map(cv),
            self.bias().map(|b| b.map(cv)),
            self.config(),
        )
    }

    /// Parameter count (weight plus bias).
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::{Array1, Array3};
    /// let bias = Some(Array1::zeros(2));
    /// let conv = Conv1d::new(Array3::<f32>::ones((2, 1, 3)), bias, Conv1dConfig::default())?;
    /// assert_eq!(conv.num_params(), 8);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn num_params(&self) -> usize {
        self.conv.num_params()
    }

    /// Short description, e.g. `Conv1d(4->8, k5, s2, p[1, 1])`.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv1d, Conv1dConfig};
    /// use ndarray::Array3;
    /// let config = Conv1dConfig::default().stride(2).padding(1);
    /// let conv = Conv1d::new(Array3::<f32>::ones((8, 4, 5)), None, config)?;
    /// assert_eq!(conv.describe(), "Conv1d(4->8, k5, s2, p[1, 1])");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let c = self.config();
        let mut s = format!(
            "Conv1d({}->{}, k{}",
            self.c_in(),
            self.c_out(),
            self.kernel_size()
        );
        if c.stride != 1 {
            s += &format!(", s{}", c.stride);
        }
        if c.dilation != 1 {
            s += &format!(", d{}", c.dilation);
        }
        if c.padding != [0; 2] {
            s += &format!(", p{:?}", c.padding);
        }
        if c.groups != 1 {
            s += &format!(", g{}", c.groups);
        }
        s + ")"
    }
}
