//! `Resize`: ONNX's `Resize` in its nearest and (n-)linear modes, every coordinate transform but
//! `tf_crop_and_resize`.

use crate::{Error, Result, MAX_RANK};

/// How `Resize` samples the input at a source coordinate `x` along each axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeMode {
    /// The nearest input element, `x` rounded by the [`NearestMode`] (ONNX `mode = "nearest"`).
    Nearest(NearestMode),
    /// Linear interpolation between `floor(x)` and the next element along every axis, so n-linear
    /// overall (ONNX `mode = "linear"`; bilinear on `(C, H, W)` with the channel scale 1).
    Linear,
}

/// How a nearest `Resize` rounds the source coordinate `x` (ONNX `nearest_mode`); an integer `x` is
/// always itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NearestMode {
    /// Round half down: `x - floor(x) <= 0.5` gives `floor(x)` (ONNX's default).
    RoundPreferFloor,
    /// Round half up: `x - floor(x) < 0.5` gives `floor(x)`.
    RoundPreferCeil,
    /// `floor(x)` (PyTorch's `mode="nearest"`, with [`CoordinateMode::Asymmetric`]).
    Floor,
    /// `ceil(x)`.
    Ceil,
}

/// The source coordinate `x` of output coordinate `o` along an axis of input length `n`, output length
/// `m` and scale `s` (ONNX `coordinate_transformation_mode`):
///
/// | mode                   | `x`                                                            |
/// |------------------------|----------------------------------------------------------------|
/// | `HalfPixel`            | `(o + 0.5) / s - 0.5`                                          |
/// | `PytorchHalfPixel`     | `(o + 0.5) / s - 0.5` if `m > 1`, else `0`                     |
/// | `AlignCorners`         | `o * (n - 1) / (m - 1)` if `m > 1`, else `0`                   |
/// | `Asymmetric`           | `o / s`                                                        |
/// | `HalfPixelSymmetric`   | `n/2 * (1 - m / (n*s)) + (o + 0.5) / s - 0.5`                  |
///
/// The nearest index, and the two neighbours of a linear sample, are clamped to `[0, n - 1]` (ONNX's
/// reference implementation pads the input with its edge values, which is the same).
///
/// Scales, output lengths and coordinates are computed in `f32` with onnxruntime's formulas (ONNX stores
/// scales as `f32`), so rounding ties and boundary lengths fall as in onnxruntime: `(1 + 0.5) / 0.6 - 0.5`
/// is exactly 2 there, and an axis of 10 at scale 0.7 has 7 outputs. ONNX's Python reference computes
/// in `f64` and differs in such cases (1.9999999, and 6 outputs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinateMode {
    /// Pixel centres aligned (ONNX's default; PyTorch's `align_corners=False`).
    HalfPixel,
    /// As `HalfPixel`, but `0` when the output has length 1 (what the PyTorch exporter writes for
    /// `align_corners=False`).
    PytorchHalfPixel,
    /// Corner pixels aligned (PyTorch's `align_corners=True`).
    AlignCorners,
    /// Output coordinate divided by the scale (PyTorch's `mode="nearest"`).
    Asymmetric,
    /// As `HalfPixel`, with the whole output centred when `n*s` is not an integer.
    HalfPixelSymmetric,
}

/// What sets the output size, one entry per sample axis.
#[derive(Clone, Debug, PartialEq)]
pub enum ResizeTarget {
    /// Output length `floor(n * s)` (in `f32`); the coordinate transform uses `s` itself (as `f32`).
    Scales(Vec<f64>),
    /// Output lengths; the scale of an axis is `m / n`.
    Sizes(Vec<usize>),
}

/// ONNX `Resize` of a sample (without the batch axis: its scale is 1), in nearest or linear mode, with any
/// [`CoordinateMode`]. Each output element is a weighted sum of at most `2^k` inputs (`k` the number of
/// axes), so it lowers to a sparse matrix.
///
/// PyTorch's `F.interpolate(mode="bilinear", align_corners=False)` is `Linear` with `PytorchHalfPixel`
/// when every output length is above 1; `mode="nearest"` is `Nearest(Floor)` with `Asymmetric`.
#[derive(Clone, Debug, PartialEq)]
pub struct Resize {
    mode: ResizeMode,
    coordinate: CoordinateMode,
    target: ResizeTarget,
}

impl Resize {
    /// The resize; shape inference checks the target has one entry per axis of the input and that no
    /// output length is 0.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when the target has no entry or more than [`MAX_RANK`], a scale is not a
    /// finite positive number, or a size is 0.
    ///
    /// ```
    /// use linear_collapse::layer::{CoordinateMode, Resize, ResizeMode, ResizeTarget};
    /// let r = Resize::new(ResizeMode::Linear, CoordinateMode::HalfPixel, ResizeTarget::Scales(vec![1.0, 2.0, 2.0]))?;
    /// assert_eq!(r.mode(), ResizeMode::Linear);
    /// let bad = Resize::new(ResizeMode::Linear, CoordinateMode::HalfPixel, ResizeTarget::Scales(vec![1.0, -2.0]));
    /// assert!(bad.is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(mode: ResizeMode, coordinate: CoordinateMode, target: ResizeTarget) -> Result<Self> {
        let r = Resize {
            mode,
            coordinate,
            target,
        };
        let bad = |reason: String| Err(Error::invalid(r.describe(), reason));
        let n = match &r.target {
            ResizeTarget::Scales(s) => s.len(),
            ResizeTarget::Sizes(s) => s.len(),
        };
        if n == 0 || n > MAX_RANK {
            return bad(format!(
                "the target must have one entry per sample axis, 1 to {MAX_RANK}, got {n}"
            ));
        }
        match &r.target {
            ResizeTarget::Scales(s) => {
                if let Some((i, v)) = s
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !(v.is_finite() && **v > 0.0))
                {
                    return bad(format!(
                        "scale {v} of axis {i} is not a finite positive number"
                    ));
                }
            }
            ResizeTarget::Sizes(s) => {
                if let Some(i) = s.iter().position(|&v| v == 0) {
                    return bad(format!("size of axis {i} is 0"));
                }
            }
        }
        Ok(r)
    }

    /// Nearest or linear.
    ///
    /// ```
    /// use linear_collapse::layer::{CoordinateMode, NearestMode, Resize, ResizeMode, ResizeTarget};
    /// let nearest = ResizeMode::Nearest(NearestMode::Floor);
    /// let r = Resize::new(nearest, CoordinateMode::Asymmetric, ResizeTarget::Sizes(vec![4]))?;
    /// assert_eq!(r.mode(), nearest);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn mode(&self) -> ResizeMode {
        self.mode
    }

    /// The coordinate transform.
    ///
    /// ```
    /// use linear_collapse::layer::{CoordinateMode, Resize, ResizeMode, ResizeTarget};
    /// let r = Resize::new(ResizeMode::Linear, CoordinateMode::AlignCorners, ResizeTarget::Sizes(vec![4]))?;
    /// assert_eq!(r.coordinate(), CoordinateMode::AlignCorners);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn coordinate(&self) -> CoordinateMode {
        self.coordinate
    }

    /// The scales or the sizes, one per sample axis.
    ///
    /// ```
    /// use linear_collapse::layer::{CoordinateMode, Resize, ResizeMode, ResizeTarget};
    /// let r = Resize::new(ResizeMode::Linear, CoordinateMode::HalfPixel, ResizeTarget::Sizes(vec![2, 6]))?;
    /// assert_eq!(r.target(), &ResizeTarget::Sizes(vec![2, 6]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn target(&self) -> &ResizeTarget {
        &self.target
    }

    /// Short description, e.g. `Resize(linear, half_pixel, scales [1.0, 2.0])`.
    ///
    /// ```
    /// use linear_collapse::layer::{CoordinateMode, NearestMode, Resize, ResizeMode, ResizeTarget};
    /// let r = Resize::new(ResizeMode::Linear, CoordinateMode::HalfPixel, ResizeTarget::Scales(vec![1.0, 2.0]))?;
    /// assert_eq!(r.describe(), "Resize(linear, half_pixel, scales [1.0, 2.0])");
    /// let nearest = ResizeMode::Nearest(NearestMode::RoundPreferCeil);
    /// let r = Resize::new(nearest, CoordinateMode::Asymmetric, ResizeTarget::Sizes(vec![3, 8]))?;
    /// assert_eq!(r.describe(), "Resize(nearest round_prefer_ceil, asymmetric, sizes [3, 8])");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            ResizeMode::Linear => "linear",
            ResizeMode::Nearest(NearestMode::RoundPreferFloor) => "nearest round_prefer_floor",
            ResizeMode::Nearest(NearestMode::RoundPreferCeil) => "nearest round_prefer_ceil",
            ResizeMode::Nearest(NearestMode::Floor) => "nearest floor",
            ResizeMode::Nearest(NearestMode::Ceil) => "nearest ceil",
        };
        let coordinate = match self.coordinate {
            CoordinateMode::HalfPixel => "half_pixel",
            CoordinateMode::PytorchHalfPixel => "pytorch_half_pixel",
            CoordinateMode::AlignCorners => "align_corners",
            CoordinateMode::Asymmetric => "asymmetric",
            CoordinateMode::HalfPixelSymmetric => "half_pixel_symmetric",
        };
        let target = match &self.target {
            ResizeTarget::Scales(s) => format!("scales {s:?}"),
            ResizeTarget::Sizes(s) => format!("sizes {s:?}"),
        };
        format!("Resize({mode}, {coordinate}, {target})")
    }
}
