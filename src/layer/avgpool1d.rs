//! `AvgPool1d`: average pooling over `(C, L)`, the same as an [`AvgPool2d`] with a `1 x k` kernel on
//! `(C, 1, L)`, which is how PyTorch computes it.

use super::{AvgPool2d, AvgPool2dConfig};
use crate::{Error, Result};

/// The hyper-parameters of an [`AvgPool1d`] besides its kernel, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool1dConfig {
    /// Step between windows; `None` (the default) is the kernel size.
    pub stride: Option<usize>,
    /// Implicit zero padding `[left, right]`; PyTorch's `padding=p` is `[p, p]`.
    pub padding: [usize; 2],
    /// Round the output length up (the last window must start inside the input or the left padding).
    pub ceil_mode: bool,
    /// Divide by the window clipped to the padded input (`true`) or by its number of real elements.
    pub count_include_pad: bool,
}

impl Default for AvgPool1dConfig {
    fn default() -> Self {
        AvgPool1dConfig {
            stride: None,
            padding: [0; 2],
            ceil_mode: false,
            count_include_pad: true,
        }
    }
}

impl AvgPool1dConfig {
    /// Sets the stride.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool1dConfig;
    /// assert_eq!(AvgPool1dConfig::default().stride(2).stride, Some(2));
    /// ```
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = Some(s);
        self
    }

    /// PyTorch's symmetric `padding=p`.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool1dConfig;
    /// assert_eq!(AvgPool1dConfig::default().padding(1).padding, [1, 1]);
    /// ```
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = [p; 2];
        self
    }

    /// Sets `ceil_mode`.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool1dConfig;
    /// assert!(AvgPool1dConfig::default().ceil_mode(true).ceil_mode);
    /// ```
    pub fn ceil_mode(mut self, on: bool) -> Self {
        self.ceil_mode = on;
        self
    }

    /// Sets `count_include_pad`.
    ///
    /// ```
    /// use linear_collapse::layer::AvgPool1dConfig;
    /// assert!(!AvgPool1dConfig::default().count_include_pad(false).count_include_pad);
    /// ```
    pub fn count_include_pad(mut self, on: bool) -> Self {
        self.count_include_pad = on;
        self
    }
}

/// 1-d average pooling over `(C, L)` (PyTorch's `nn.AvgPool1d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool1d {
    kernel: usize,
    stride: usize,
    padding: [usize; 2],
    ceil_mode: bool,
    count_include_pad: bool,
}

impl AvgPool1d {
    /// Builds a pool with window `kernel`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] on a zero kernel or stride, or a padding larger than half the kernel.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// let pool = AvgPool1d::new(3, AvgPool1dConfig::default().stride(2).padding(1))?;
    /// assert_eq!(pool.out_len(8), Some(4));
    /// assert!(AvgPool1d::new(3, AvgPool1dConfig::default().padding(2)).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(kernel: usize, config: AvgPool1dConfig) -> Result<Self> {
        let stride = config.stride.unwrap_or(kernel);
        let name = format!("AvgPool1d(k{kernel})");
        if kernel == 0 {
            return Err(Error::invalid(name, "kernel must be at least 1"));
        }
        if stride == 0 {
            return Err(Error::invalid(name, "stride must be at least 1"));
        }
        let p = config.padding;
        if p[0].max(p[1]) > kernel / 2 {
            return Err(Error::invalid(
                name,
                format!("padding {p:?} must be at most half the kernel {kernel} on each side"),
            ));
        }
        Ok(AvgPool1d {
            kernel,
            stride,
            padding: p,
            ceil_mode: config.ceil_mode,
            count_include_pad: config.count_include_pad,
        })
    }

    /// The window length.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// assert_eq!(AvgPool1d::new(4, AvgPool1dConfig::default())?.kernel_size(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn kernel_size(&self) -> usize {
        self.kernel
    }

    /// The stride (the kernel when the config left it unset).
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// assert_eq!(AvgPool1d::new(4, AvgPool1dConfig::default())?.stride(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// `[left, right]`.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// assert_eq!(AvgPool1d::new(2, AvgPool1dConfig::default().padding(1))?.padding(), [1, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn padding(&self) -> [usize; 2] {
        self.padding
    }

    /// Whether the output length is rounded up.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// assert!(AvgPool1d::new(2, AvgPool1dConfig::default().ceil_mode(true))?.ceil_mode());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn ceil_mode(&self) -> bool {
        self.ceil_mode
    }

    /// Whether padded positions count in the divisor.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// assert!(AvgPool1d::new(2, AvgPool1dConfig::default())?.count_include_pad());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn count_include_pad(&self) -> bool {
        self.count_include_pad
    }

    /// The hyper-parameters back as a config (with the stride made explicit).
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// let pool = AvgPool1d::new(3, AvgPool1dConfig::default())?;
    /// assert_eq!(pool.config().stride, Some(3));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn config(&self) -> AvgPool1dConfig {
        AvgPool1dConfig {
            stride: Some(self.stride),
            padding: self.padding,
            ceil_mode: self.ceil_mode,
            count_include_pad: self.count_include_pad,
        }
    }

    /// The equivalent [`AvgPool2d`] on `(C, 1, L)`: kernel `[1, k]`, stride `[1, s]`, padding
    /// `[0, left, 0, right]`.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// let pool = AvgPool1d::new(3, AvgPool1dConfig::default().padding(1))?.to_avgpool2d();
    /// assert_eq!((pool.kernel_size(), pool.padding()), ([1, 3], [0, 1, 0, 1]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn to_avgpool2d(&self) -> AvgPool2d {
        let [l, r] = self.padding;
        let config = AvgPool2dConfig {
            stride: Some([1, self.stride]),
            padding: [0, l, 0, r],
            ceil_mode: self.ceil_mode,
            count_include_pad: self.count_include_pad,
        };
        AvgPool2d::new([1, self.kernel], config).expect("validated as a 1-d pool")
    }

    /// Output length for an input of length `l`, or `None` when no window fits.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// let pool = AvgPool1d::new(2, AvgPool1dConfig::default().ceil_mode(true))?;
    /// assert_eq!(pool.out_len(5), Some(3));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn out_len(&self, l: usize) -> Option<usize> {
        Some(self.to_avgpool2d().out_dims([1, l])?[1])
    }

    /// Short description, e.g. `AvgPool1d(k3, s2, p[1, 1], ceil)`.
    ///
    /// ```
    /// use linear_collapse::layer::{AvgPool1d, AvgPool1dConfig};
    /// assert_eq!(AvgPool1d::new(3, AvgPool1dConfig::default())?.describe(), "AvgPool1d(k3)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let mut s = format!("AvgPool1d(k{}", self.kernel);
        if self.stride != self.kernel {
            s += &format!(", s{}", self.stride);
        }
        if self.padding != [0; 2] {
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
