//! `ConvTranspose2d`: the transposed (fractionally strided) convolution, PyTorch's.

use ndarray::{Array1, Array4};

use super::check_finite;
use super::geometry::transposed_out_dim;
use crate::{Error, Result, Scalar};

/// The hyper-parameters of a [`ConvTranspose2d`] (the kernel size comes from the weight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dConfig {
    /// `[sh, sw]`: the step, in the output, between the contributions of neighbouring inputs.
    pub stride: [usize; 2],
    /// Rows and columns cropped from the full output, `[top, left, bottom, right]`; PyTorch's
    /// `padding=(p, q)` is `[p, q, p, q]`.
    pub padding: [usize; 4],
    /// Extra rows and columns `[oh, ow]` added at the bottom and right (PyTorch's `output_padding`); each
    /// must be smaller than the stride or the dilation of its axis.
    pub output_padding: [usize; 2],
    /// `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Number of groups; divides both channel counts.
    pub groups: usize,
}

impl Default for ConvTranspose2dConfig {
    fn default() -> Self {
        ConvTranspose2dConfig {
            stride: [1, 1],
            padding: [0; 4],
            output_padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl ConvTranspose2dConfig {
    /// The same stride on both axes.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2dConfig;
    /// assert_eq!(ConvTranspose2dConfig::default().stride(2).stride, [2, 2]);
    /// ```
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }

    /// PyTorch's symmetric `padding=p`.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2dConfig;
    /// assert_eq!(ConvTranspose2dConfig::default().padding(1).padding, [1, 1, 1, 1]);
    /// ```
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = [p; 4];
        self
    }

    /// The same output padding on both axes.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2dConfig;
    /// assert_eq!(ConvTranspose2dConfig::default().output_padding(1).output_padding, [1, 1]);
    /// ```
    pub fn output_padding(mut self, p: usize) -> Self {
        self.output_padding = [p, p];
        self
    }

    /// The same dilation on both axes.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2dConfig;
    /// assert_eq!(ConvTranspose2dConfig::default().dilation(2).dilation, [2, 2]);
    /// ```
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = [d, d];
        self
    }

    /// Number of groups.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2dConfig;
    /// assert_eq!(ConvTranspose2dConfig::default().groups(2).groups, 2);
    /// ```
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// A transposed 2-d convolution (PyTorch's `nn.ConvTranspose2d`), weight `(C_in, C_out/groups, kh, kw)`.
///
/// Input `(ci, iy, ix)` adds `W[ci, o, ky, kx] * x` to output `(o, y, x)` with `y = iy*sh + ky*dh - top`
/// and `x = ix*sw + kx*dw - left`, for `o` in the group of `ci`; outputs start from the bias. The output is
/// `OH = (H - 1)*sh - top - bottom + dh*(kh - 1) + output_padding_h + 1`, likewise `OW`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTranspose2d<T> {
    weight: Array4<T>,
    bias: Option<Array1<T>>,
    config: ConvTranspose2dConfig,
}

impl<T: Scalar> ConvTranspose2d<T> {
    /// Builds the layer from its weight `(C_in, C_out/groups, kh, kw)`, optional bias `(C_out,)` and
    /// hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] on a zero dimension, stride or dilation, `groups` not dividing `C_in`, an
    /// output padding not smaller than the stride or the dilation of its axis, a bias of the wrong length,
    /// or a NaN or infinite weight.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default().stride(2).padding(1).output_padding(1);
    /// let up = ConvTranspose2d::new(Array4::<f32>::zeros((4, 2, 3, 3)), None, config)?;
    /// assert_eq!((up.c_in(), up.c_out()), (4, 2));
    /// assert_eq!(up.out_dims([5, 5]), Some([10, 10]));
    /// let bad = ConvTranspose2d::new(Array4::<f32>::zeros((4, 2, 3, 3)), None, config.stride(1));
    /// assert!(bad.unwrap_err().to_string().contains("output_padding"));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(
        weight: Array4<T>,
        bias: Option<Array1<T>>,
        config: ConvTranspose2dConfig,
    ) -> Result<Self> {
        let (c_in, c_out_g, kh, kw) = weight.dim();
        let g = config.groups;
        let name = format!(
            "ConvTranspose2d({c_in}->{}, k{kh}x{kw}, groups {g})",
            c_out_g.saturating_mul(g)
        );
        let fail = |reason: String| Err(Error::invalid(&name, reason));
        if c_in == 0 || c_out_g == 0 {
            return fail("weight has a zero channel dimension".into());
        }
        if kh == 0 || kw == 0 {
            return fail(format!("kernel [{kh}, {kw}] has a zero dimension"));
        }
        let (s, d, op) = (config.stride, config.dilation, config.output_padding);
        if s.contains(&0) {
            return fail(format!("stride {s:?} must be at least 1"));
        }
        if d.contains(&0) {
            return fail(format!("dilation {d:?} must be at least 1"));
        }
        if (0..2).any(|a| op[a] >= s[a] && op[a] >= d[a]) {
            return fail(format!(
                "output_padding {op:?} must be smaller than either the stride {s:?} or the dilation {d:?}"
            ));
        }
        if g == 0 || c_in % g != 0 {
            return fail(format!("groups = {g} must divide C_in = {c_in}"));
        }
        if let Some(b) = &bias {
            if b.len() != c_out_g * g {
                return fail(format!(
                    "bias has {} elements, C_out is {}",
                    b.len(),
                    c_out_g * g
                ));
            }
            check_finite(&name, "bias", b)?;
        }
        check_finite(&name, "weight", &weight)?;
        Ok(ConvTranspose2d {
            weight,
            bias,
            config,
        })
    }

    /// The weight `(C_in, C_out/groups, kh, kw)`.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default();
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((2, 3, 2, 2)), None, config)?;
    /// assert_eq!(up.weight().dim(), (2, 3, 2, 2));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn weight(&self) -> &Array4<T> {
        &self.weight
    }

    /// The bias, if any.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::{array, Array4};
    /// let config = ConvTranspose2dConfig::default();
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((1, 1, 2, 2)), Some(array![0.5]), config)?;
    /// assert_eq!(up.bias(), Some(&array![0.5]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn bias(&self) -> Option<&Array1<T>> {
        self.bias.as_ref()
    }

    /// The hyper-parameters.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default().stride(2);
    /// assert_eq!(ConvTranspose2d::new(Array4::<f32>::ones((1, 1, 2, 2)), None, config)?.config(), config);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn config(&self) -> ConvTranspose2dConfig {
        self.config
    }

    /// Number of groups.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default().groups(2);
    /// assert_eq!(ConvTranspose2d::new(Array4::<f32>::ones((4, 1, 2, 2)), None, config)?.groups(), 2);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn groups(&self) -> usize {
        self.config.groups
    }

    /// Input channels.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2d;
    /// use ndarray::Array4;
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((4, 3, 2, 2)), None, Default::default())?;
    /// assert_eq!(up.c_in(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn c_in(&self) -> usize {
        self.weight.dim().0
    }

    /// Output channels.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default().groups(2);
    /// assert_eq!(ConvTranspose2d::new(Array4::<f32>::ones((4, 3, 2, 2)), None, config)?.c_out(), 6);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn c_out(&self) -> usize {
        self.weight.dim().1 * self.config.groups
    }

    /// Kernel size `[kh, kw]`.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2d;
    /// use ndarray::Array4;
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((1, 1, 2, 3)), None, Default::default())?;
    /// assert_eq!(up.kernel_size(), [2, 3]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn kernel_size(&self) -> [usize; 2] {
        let (_, _, kh, kw) = self.weight.dim();
        [kh, kw]
    }

    /// Output size `[oh, ow]` for an input `[h, w]`, or `None` when the padding crops everything.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default().stride(2);
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((1, 1, 2, 2)), None, config)?;
    /// assert_eq!(up.out_dims([4, 3]), Some([8, 6]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn out_dims(&self, [h, w]: [usize; 2]) -> Option<[usize; 2]> {
        let c = &self.config;
        let k = self.kernel_size();
        let axis = |a: usize, n: usize| {
            let pads = [c.padding[a], c.padding[a + 2]];
            transposed_out_dim(
                n,
                pads,
                k[a],
                c.stride[a],
                c.dilation[a],
                c.output_padding[a],
            )
        };
        Some([axis(0, h)?, axis(1, w)?])
    }

    /// The same layer in another precision.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a weight overflows `U`.
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2d;
    /// use ndarray::Array4;
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((1, 1, 2, 2)), None, Default::default())?;
    /// assert_eq!(up.cast::<f64>()?.weight()[[0, 0, 1, 1]], 1.0);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<ConvTranspose2d<U>> {
        let cv = |x: &T| U::narrow(x.widen());
        ConvTranspose2d::new(
            self.weight.map(cv),
            self.bias.as_ref().map(|b| b.map(cv)),
            self.config,
        )
    }

    /// Parameter count (weight plus bias).
    ///
    /// ```
    /// use linear_collapse::layer::ConvTranspose2d;
    /// use ndarray::{Array1, Array4};
    /// let bias = Some(Array1::zeros(3));
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((2, 3, 2, 2)), bias, Default::default())?;
    /// assert_eq!(up.num_params(), 27);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn num_params(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, |b| b.len())
    }

    /// Short description, e.g. `ConvTranspose2d(4->2, k3x3, s[2, 2], p[1, 1, 1, 1], op[1, 1])`.
    ///
    /// ```
    /// use linear_collapse::layer::{ConvTranspose2d, ConvTranspose2dConfig};
    /// use ndarray::Array4;
    /// let config = ConvTranspose2dConfig::default().stride(2).padding(1).output_padding(1);
    /// let up = ConvTranspose2d::new(Array4::<f32>::ones((4, 2, 3, 3)), None, config)?;
    /// assert_eq!(up.describe(), "ConvTranspose2d(4->2, k3x3, s[2, 2], p[1, 1, 1, 1], op[1, 1])");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let c = &self.config;
        let k = self.kernel_size();
        let mut s = format!(
            "ConvTranspose2d({}->{}, k{}x{}",
            self.c_in(),
            self.c_out(),
            k[0],
            k[1]
        );
        if c.stride != [1, 1] {
            s += &format!(", s{:?}", c.stride);
        }
        if c.dilation != [1, 1] {
            s += &format!(", d{:?}", c.dilation);
        }
        if c.padding != [0; 4] {
            s += &format!(", p{:?}", c.padding);
        }
        if c.output_padding != [0, 0] {
            s += &format!(", op{:?}", c.output_padding);
        }
        if c.groups != 1 {
            s += &format!(", g{}", c.groups);
        }
        s + ")"
    }
}
