//! `AvgPool2d`: the mean over each window, with PyTorch's `ceil_mode` and `count_include_pad` rules.

use super::geometry::pool_out_dim;
use crate::{Error, Result};

/// The hyper-parameters of an [`AvgPool2d`] besides its kernel, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2dConfig {
    /// `[sh, sw]`; `None` (the default) is the kernel size, as in PyTorch.
    pub stride: Option<[usize; 2]>,
    /// Implicit zero padding `[top, left, bottom, right]`; PyTorch's `padding=(p, q)` is `[p, q, p, q]`.
    pub padding: [usize; 4],
    /// Round the output size up instead of down (the last window may hang over the end, but must start
    /// inside the input or the left padding).
    pub ceil_mode: bool,
    /// Divide by the window's size clipped to the padded input (`true`, the default) or by the number of
    /// real pixels it covers (`false`).
    pub count_include_pad: bool,
}

impl Default for AvgPool2dConfig {
    fn default() -> Self {
        AvgPool2dConfig {
            stride: None,
            padding: [0; 4],
            ceil_mode: false,
            count_include_pad: true,
        }
    }
}

impl AvgPool2dConfig {
    /// The same stride on both axes.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool2dConfig;
    /// assert_eq!(AvgPool2dConfig::default().stride(1).stride, Some([1, 1]));
    /// ```
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = Some([s, s]);
        self
    }

    /// PyTorch's symmetric `padding=p` on all four sides.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool2dConfig;
    /// assert_eq!(AvgPool2dConfig::default().padding(1).padding, [1, 1, 1, 1]);
    /// ```
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = [p; 4];
        self
    }

    /// Sets `ceil_mode`.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool2dConfig;
    /// assert!(AvgPool2dConfig::default().ceil_mode(true).ceil_mode);
    /// ```
    pub fn ceil_mode(mut self, on: bool) -> Self {
        self.ceil_mode = on;
        self
    }

    /// Sets `count_include_pad`.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool2dConfig;
    /// assert!(!AvgPool2dConfig::default().count_include_pad(false).count_include_pad);
    /// ```
    pub fn count_include_pad(mut self, on: bool) -> Self {
        self.count_include_pad = on;
        self
    }
}

/// 2-d average pooling over `(C, H, W)` (PyTorch's `nn.AvgPool2d`, no `divisor_override`).
///
/// Output `(c, i, j)` averages the window of rows `i*sh - top .. i*sh - top + kh` and columns likewise. The
/// divisor is, with `count_include_pad`, the window's size after clipping it to the padded input
/// `[-top, H + bottom) x [-left, W + right)`; without, the number of real pixels in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
    ceil_mode: bool,
    count_include_pad: bool,
}

impl AvgPool2d {
    /// Builds a pool with kernel `[kh, kw]`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] on a zero kernel or stride, or a padding larger than half the kernel on its
    /// axis (PyTorch's limit).
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// let pool = AvgPool2d::new([2, 2], AvgPool2dConfig::default())?;
    /// assert_eq!(pool.stride(), [2, 2]);
    /// assert!(AvgPool2d::new([2, 2], AvgPool2dConfig::default().padding(2)).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(kernel: [usize; 2], config: AvgPool2dConfig) -> Result<Self> {
        let stride = config.stride.unwrap_or(kernel);
        let name = format!("AvgPool2d(k{}x{})", kernel[0], kernel[1]);
        if kernel.contains(&0) {
            return Err(Error::invalid(
                name,
                format!("kernel {kernel:?} has a zero dimension"),
            ));
        }
        if stride.contains(&0) {
            return Err(Error::invalid(
                name,
                format!("stride {stride:?} must be at least 1"),
            ));
        }
        let p = config.padding;
        if p[0].max(p[2]) > kernel[0] / 2 || p[1].max(p[3]) > kernel[1] / 2 {
            return Err(Error::invalid(
                name,
                format!("padding {p:?} must be at most half the kernel {kernel:?} on each side"),
            ));
        }
        Ok(AvgPool2d {
            kernel,
            stride,
            padding: p,
            ceil_mode: config.ceil_mode,
            count_include_pad: config.count_include_pad,
        })
    }

    /// `[kh, kw]`.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// assert_eq!(AvgPool2d::new([3, 2], AvgPool2dConfig::default())?.kernel_size(), [3, 2]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn kernel_size(&self) -> [usize; 2] {
        self.kernel
    }

    /// `[sh, sw]` (the kernel when the config left it unset).
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// assert_eq!(AvgPool2d::new([3, 3], AvgPool2dConfig::default().stride(1))?.stride(), [1, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn stride(&self) -> [usize; 2] {
        self.stride
    }

    /// `[top, left, bottom, right]`.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// let pool = AvgPool2d::new([3, 3], AvgPool2dConfig::default().padding(1))?;
    /// assert_eq!(pool.padding(), [1, 1, 1, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn padding(&self) -> [usize; 4] {
        self.padding
    }

    /// Whether the output size is rounded up.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// assert!(!AvgPool2d::new([2, 2], AvgPool2dConfig::default())?.ceil_mode());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn ceil_mode(&self) -> bool {
        self.ceil_mode
    }

    /// Whether padded positions count in the divisor.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// assert!(AvgPool2d::new([2, 2], AvgPool2dConfig::default())?.count_include_pad());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn count_include_pad(&self) -> bool {
        self.count_include_pad
    }

    /// The hyper-parameters back as a config (with the stride made explicit).
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// let pool = AvgPool2d::new([2, 2], AvgPool2dConfig::default())?;
    /// assert_eq!(AvgPool2d::new(pool.kernel_size(), pool.config())?, pool);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn config(&self) -> AvgPool2dConfig {
        AvgPool2dConfig {
            stride: Some(self.stride),
            padding: self.padding,
            ceil_mode: self.ceil_mode,
            count_include_pad: self.count_include_pad,
        }
    }

    /// Output size `[oh, ow]` for an input `[h, w]`, or `None` when no window fits.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// let floor = AvgPool2d::new([2, 2], AvgPool2dConfig::default())?;
    /// assert_eq!(floor.out_dims([5, 4]), Some([2, 2]));
    /// let ceil = AvgPool2d::new([2, 2], AvgPool2dConfig::default().ceil_mode(true))?;
    /// assert_eq!(ceil.out_dims([5, 4]), Some([3, 2]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn out_dims(&self, [h, w]: [usize; 2]) -> Option<[usize; 2]> {
        let p = self.padding;
        let (k, s, ceil) = (self.kernel, self.stride, self.ceil_mode);
        Some([
            pool_out_dim(h, p[0], p[2], k[0], s[0], ceil)?,
            pool_out_dim(w, p[1], p[3], k[1], s[1], ceil)?,
        ])
    }

    /// Short description, e.g. `AvgPool2d(k3x3, s[2, 2], p[1, 1, 1, 1], ceil, exclude pad)`; the stride
    /// shows only when it differs from the kernel.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    /// assert_eq!(AvgPool2d::new([2, 2], AvgPool2dConfig::default())?.describe(), "AvgPool2d(k2x2)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let mut s = format!("AvgPool2d(k{}x{}", self.kernel[0], self.kernel[1]);
        if self.stride != self.kernel {
            s += &format!(", s{:?}", self.stride);
        }
        if self.padding != [0; 4] {
            s += &format!(", p{:?}", self.padding);
        }
        if self.ceil_mode {
            s += ", ceil";
        }
        if !self.count_include_pad {
            s += ", exclude pad";
        }
        s + ")"
    }
}
