//! `Conv2d`: cross-correlation with stride, dilation, asymmetric zero padding and groups (PyTorch's).

use ndarray::{Array1, Array4};

use super::{check_finite, Geometry2d};
use crate::{Error, Result, Scalar};

/// The hyper-parameters of a [`Conv2d`], in PyTorch's vocabulary (the kernel size comes from the weight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[dh, dw]`.
    pub dilation: [usize; 2],
    /// `[top, left, bottom, right]` (ONNX order). PyTorch's `padding=(p, q)` is `[p, q, p, q]`.
    pub padding: [usize; 4],
    /// Number of groups; divides both channel counts.
    pub groups: usize,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            stride: [1, 1],
            dilation: [1, 1],
            padding: [0; 4],
            groups: 1,
        }
    }
}

impl Conv2dConfig {
    /// The same stride on both axes.
    ///
    /// ```
    /// use linear_collapse::layer::Conv2dConfig;
    /// assert_eq!(Conv2dConfig::default().stride(2).stride, [2, 2]);
    /// ```
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }

    /// PyTorch's symmetric `padding=p` on all four sides.
    ///
    /// ```
    /// use linear_collapse::layer::Conv2dConfig;
    /// assert_eq!(Conv2dConfig::default().padding(1).padding, [1, 1, 1, 1]);
    /// ```
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = [p; 4];
        self
    }

    /// The same dilation on both axes.
    ///
    /// ```
    /// use linear_collapse::layer::Conv2dConfig;
    /// assert_eq!(Conv2dConfig::default().dilation(2).dilation, [2, 2]);
    /// ```
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = [d, d];
        self
    }

    /// Number of groups.
    ///
    /// ```
    /// use linear_collapse::layer::Conv2dConfig;
    /// assert_eq!(Conv2dConfig::default().groups(2).groups, 2);
    /// ```
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// A 2-d convolution, weight `(C_out, C_in/groups, kh, kw)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d<T> {
    weight: Array4<T>,
    bias: Option<Array1<T>>,
    geometry: Geometry2d,
    groups: usize,
}

impl<T: Scalar> Conv2d<T> {
    /// Builds a convolution from its weight `(C_out, C_in/groups, kh, kw)`, optional bias `(C_out,)` and
    /// hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] on a zero dimension, stride or dilation, `groups` not dividing `C_out`, a bias
    /// of the wrong length, or a NaN or infinite weight.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv2d, Conv2dConfig};
    /// use ndarray::Array4;
    /// let conv = Conv2d::new(Array4::<f32>::zeros((50, 5, 5, 5)), None, Conv2dConfig::default().stride(2))?;
    /// assert_eq!(conv.c_in(), 5);
    /// let bad = Conv2d::new(Array4::<f32>::zeros((6, 2, 3, 3)), None, Conv2dConfig::default().groups(4));
    /// assert!(bad.unwrap_err().to_string().contains("groups"));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(weight: Array4<T>, bias: Option<Array1<T>>, config: Conv2dConfig) -> Result<Self> {
        let (c_out, c_in_g, kh, kw) = weight.dim();
        let geometry = Geometry2d {
            kernel: [kh, kw],
            stride: config.stride,
            dilation: config.dilation,
            padding: config.padding,
        };
        let name = format!(
            "Conv2d({}->{c_out}, k{kh}x{kw}, groups {})",
            c_in_g.saturating_mul(config.groups),
            config.groups
        );
        if c_out == 0 || c_in_g == 0 {
            return Err(Error::invalid(name, "weight has a zero channel dimension"));
        }
        geometry.check().map_err(|r| Error::invalid(&name, r))?;
        if config.groups == 0 || c_out % config.groups != 0 {
            return Err(Error::invalid(
                name,
                format!("groups = {} must divide C_out = {c_out}", config.groups),
            ));
        }
        if let Some(b) = &bias {
            if b.len() != c_out {
                return Err(Error::invalid(
                    name,
                    format!("bias has {} elements, C_out is {c_out}", b.len()),
                ));
            }
            check_finite(&name, "bias", b)?;
        }
        check_finite(&name, "weight", &weight)?;
        Ok(Conv2d {
            weight,
            bias,
            geometry,
            groups: config.groups,
        })
    }

    /// The weight `(C_out, C_in/groups, kh, kw)`.
    pub fn weight(&self) -> &Array4<T> {
        &self.weight
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<&Array1<T>> {
        self.bias.as_ref()
    }

    /// Kernel, stride, dilation and padding.
    pub fn geometry(&self) -> &Geometry2d {
        &self.geometry
    }

    /// Kernel size `[kh, kw]` (the weight's last two dimensions), as for every layer with a kernel.
    ///
    /// ```
    /// use linear_collapse::layer::{Conv2d, Conv2dConfig};
    /// let conv = Conv2d::new(ndarray::Array4::<f32>::zeros((4, 2, 3, 5)), None, Conv2dConfig::default())?;
    /// assert_eq!(conv.kernel_size(), [3, 5]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn kernel_size(&self) -> [usize; 2] {
        self.geometry.kernel
    }

    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Input channels.
    pub fn c_in(&self) -> usize {
        self.weight.dim().1 * self.groups
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.weight.dim().0
    }

    /// The hyper-parameters back as a [`Conv2dConfig`].
    pub fn config(&self) -> Conv2dConfig {
        Conv2dConfig {
            stride: self.geometry.stride,
            dilation: self.geometry.dilation,
            padding: self.geometry.padding,
            groups: self.groups,
        }
    }

    /// Parameter count (weight plus bias).
    pub fn num_params(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, |b| b.len())
    }

    /// Short description, e.g. `Conv2d(5->50, k5x5, s2)`.
    pub fn describe(&self) -> String {
        let g = &self.geometry;
        let mut s = format!(
            "Conv2d({}->{}, k{}x{}",
            self.c_in(),
            self.c_out(),
            g.kernel[0],
            g.kernel[1]
        );
        if g.stride != [1, 1] {
            s += &format!(", s{:?}", g.stride);
        }
        if g.dilation != [1, 1] {
            s += &format!(", d{:?}", g.dilation);
        }
        if g.padding != [0; 4] {
            s += &format!(", p{:?}", g.padding);
        }
        if self.groups != 1 {
            s += &format!(", g{}", self.groups);
        }
        s + ")"
    }
}
