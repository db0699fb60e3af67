//! Kernel geometry shared by convolutions and pools: kernel, stride, dilation, padding.

/// Where a 2-d kernel visits its input.
///
/// Pads are ordered `[top, left, bottom, right]`, as ONNX `pads` for 2-d.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry2d {
    /// Kernel extent `[kh, kw]` (before dilation).
    pub kernel: [usize; 2],
    /// Step between windows `[sh, sw]`.
    pub stride: [usize; 2],
    /// Spacing between taps `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Zero padding `[top, left, bottom, right]`.
    pub padding: [usize; 4],
}

impl Default for Geometry2d {
    fn default() -> Self {
        Geometry2d {
            kernel: [1, 1],
            stride: [1, 1],
            dilation: [1, 1],
            padding: [0; 4],
        }
    }
}

impl Geometry2d {
    /// Dilated kernel extent along axis `a` (0 = height, 1 = width): `d*(k-1)+1`.
    ///
    /// ```
    /// use linear_collapse::layer::Geometry2d;
    /// let g = Geometry2d { kernel: [3, 3], dilation: [2, 1], ..Default::default() };
    /// assert_eq!(g.extent(0), 5);
    /// assert_eq!(g.extent(1), 3);
    /// ```
    pub fn extent(&self, a: usize) -> usize {
        self.dilation[a]
            .saturating_mul(self.kernel[a].saturating_sub(1))
            .saturating_add(1)
    }

    /// Output size `[oh, ow]` for an input `[h, w]`, or `None` when the dilated kernel does not fit in the
    /// padded input.
    ///
    /// `OH = floor((H + top + bottom - dh*(kh-1) - 1) / sh) + 1`.
    ///
    /// ```
    /// use linear_collapse::layer::Geometry2d;
    /// let g = Geometry2d { kernel: [5, 5], stride: [2, 2], ..Default::default() };
    /// assert_eq!(g.out_dims([13, 13]), Some([5, 5]));
    /// assert_eq!(g.out_dims([4, 13]), None);
    /// ```
    pub fn out_dims(&self, input: [usize; 2]) -> Option<[usize; 2]> {
        let oh = out_dim(
            input[0],
            self.padding[0],
            self.padding[2],
            self.extent(0),
            self.stride[0],
        )?;
        let ow = out_dim(
            input[1],
            self.padding[1],
            self.padding[3],
            self.extent(1),
            self.stride[1],
        )?;
        Some([oh, ow])
    }

    /// Checks strides, dilations and kernel sizes are non-zero; returns the reason when not.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.kernel.contains(&0) {
            return Err(format!("kernel {:?} has a zero dimension", self.kernel));
        }
        if self.stride.contains(&0) {
            return Err(format!("stride {:?} must be at least 1", self.stride));
        }
        if self.dilation.contains(&0) {
            return Err(format!("dilation {:?} must be at least 1", self.dilation));
        }
        Ok(())
    }
}

/// One axis of [`Geometry2d::out_dims`]: `floor((n + pad_lo + pad_hi - extent) / stride) + 1`.
pub(crate) fn out_dim(
    n: usize,
    pad_lo: usize,
    pad_hi: usize,
    extent: usize,
    stride: usize,
) -> Option<usize> {
    let padded = n.checked_add(pad_lo)?.checked_add(pad_hi)?;
    if extent > padded || stride == 0 {
        return None;
    }
    Some((padded - extent) / stride + 1)
}

/// One axis of a pooling window's output size, as PyTorch's `pooling_output_shape_pad_lr` (dilation 1):
/// `floor((n + lo + hi - k + (ceil_mode ? s - 1 : 0)) / s) + 1`, and with `ceil_mode` one window fewer when
/// the last one would start at or past the end of the input plus the left padding. `None` when no window
/// fits.
pub(crate) fn pool_out_dim(
    n: usize,
    pad_lo: usize,
    pad_hi: usize,
    kernel: usize,
    stride: usize,
    ceil_mode: bool,
) -> Option<usize> {
    let padded = n.checked_add(pad_lo)?.checked_add(pad_hi)?;
    let round_up = if ceil_mode { stride.checked_sub(1)? } else { 0 };
    // `floor(num / s) + 1 >= 1` exactly when `num >= 0`
    let num = padded.checked_add(round_up)?.checked_sub(kernel)?;
    let mut out = num / stride + 1;
    if ceil_mode && (out - 1) * stride >= n + pad_lo {
        out -= 1;
    }
    (out > 0).then_some(out)
}

/// One axis of a transposed convolution's output size, as PyTorch's `ConvTranspose2d`:
/// `(n - 1) * s - lo - hi + d * (k - 1) + output_padding + 1`. `None` when the padding crops everything.
pub(crate) fn transposed_out_dim(
    n: usize,
    [pad_lo, pad_hi]: [usize; 2],
    kernel: usize,
    stride: usize,
    dilation: usize,
    output_padding: usize,
) -> Option<usize> {
    let full = n
        .checked_sub(1)?
        .checked_mul(stride)?
        .checked_add(dilation.checked_mul(kernel.checked_sub(1)?)?)?
        .checked_add(output_padding)?
        .checked_add(1)?;
    let out = full.checked_sub(pad_lo)?.checked_sub(pad_hi)?;
    (out > 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{out_dim, pool_out_dim, transposed_out_dim};

    #[test]
    fn pool_out_dim_table() {
        // (n, lo, hi, k, s, ceil_mode) -> out, as torch.nn.AvgPool1d computes it.
        assert_eq!(pool_out_dim(5, 0, 0, 2, 2, false), Some(2));
        assert_eq!(pool_out_dim(5, 0, 0, 2, 2, true), Some(3));
        assert_eq!(pool_out_dim(4, 0, 0, 2, 2, true), Some(2));
        assert_eq!(pool_out_dim(5, 1, 1, 3, 2, true), Some(3));
        // the last window would start in the right padding: dropped
        assert_eq!(pool_out_dim(5, 1, 1, 3, 3, true), Some(2));
        assert_eq!(pool_out_dim(5, 1, 1, 3, 3, false), Some(2));
        assert_eq!(pool_out_dim(12, 0, 0, 2, 2, false), Some(6));
        assert_eq!(pool_out_dim(1, 0, 0, 2, 2, true), Some(1));
        assert_eq!(pool_out_dim(1, 0, 0, 2, 2, false), None);
        assert_eq!(pool_out_dim(2, 0, 0, 4, 3, true), Some(1));
        assert_eq!(pool_out_dim(1, 0, 0, 4, 3, true), None);
        assert_eq!(pool_out_dim(usize::MAX, 1, 1, 3, 1, false), None);
    }

    #[test]
    fn transposed_out_dim_table() {
        // (n, [lo, hi], k, s, d, output_padding) -> out, as torch.nn.ConvTranspose2d computes it.
        assert_eq!(transposed_out_dim(5, [1, 1], 3, 2, 1, 1), Some(10));
        assert_eq!(transposed_out_dim(5, [0, 0], 3, 1, 1, 0), Some(7));
        assert_eq!(transposed_out_dim(4, [0, 0], 2, 2, 1, 0), Some(8));
        assert_eq!(transposed_out_dim(3, [2, 2], 3, 1, 2, 0), Some(3));
        assert_eq!(transposed_out_dim(1, [0, 0], 1, 1, 1, 0), Some(1));
        assert_eq!(transposed_out_dim(1, [1, 0], 1, 1, 1, 0), None);
        assert_eq!(transposed_out_dim(0, [0, 0], 1, 1, 1, 0), None);
    }

    #[test]
    fn out_dim_table() {
        // (n, lo, hi, extent, stride) -> out, as torch.nn.Conv2d computes it.
        assert_eq!(out_dim(5, 1, 1, 3, 2), Some(3));
        assert_eq!(out_dim(13, 0, 0, 5, 2), Some(5));
        assert_eq!(out_dim(32, 1, 1, 3, 1), Some(32));
        assert_eq!(out_dim(16, 2, 2, 5, 3), Some(6));
        assert_eq!(out_dim(12, 1, 1, 3, 2), Some(6));
        assert_eq!(out_dim(2, 0, 0, 3, 1), None);
        assert_eq!(out_dim(2, 1, 0, 3, 1), Some(1));
        assert_eq!(out_dim(usize::MAX, 1, 1, 3, 1), None);
    }
}
