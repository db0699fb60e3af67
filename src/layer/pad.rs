//! `Pad`: explicit padding of `(C, H, W)` or `(C, L)` in PyTorch's four modes.

use crate::{Error, Result, Scalar};

/// How padded positions are filled (PyTorch's `F.pad` modes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode<T> {
    /// A constant (`ConstantPad2d`, `ZeroPad2d`): a non-zero value makes the layer affine (it goes to the
    /// bias).
    Constant(T),
    /// Mirror without repeating the edge (`ReflectionPad2d`): `[a b c]` padded by 2 is `c b [a b c] b a`.
    Reflect,
    /// Repeat the edge (`ReplicationPad2d`): `a a [a b c] c c`.
    Replicate,
    /// Wrap around (`CircularPad2d`): `b c [a b c] a b`.
    Circular,
}

impl<T: Scalar> PadMode<T> {
    /// The mode's name, as PyTorch's `F.pad(mode=...)`.
    ///
    /// ```
    /// use linear_collapse::layer::PadMode;
    /// assert_eq!(PadMode::<f32>::Reflect.name(), "reflect");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            PadMode::Constant(_) => "constant",
            PadMode::Reflect => "reflect",
            PadMode::Replicate => "replicate",
            PadMode::Circular => "circular",
        }
    }
}

/// Pads each channel of `(C, H, W)` by `[top, left, bottom, right]`, or of `(C, L)` by `[left, right]`
/// (stored as `[0, left, 0, right]`).
///
/// The limits that depend on the input are PyTorch's and are checked by shape inference: reflect padding
/// must be smaller than the dimension it pads, circular padding at most that dimension, and the
/// replicate, reflect and circular modes need a non-empty input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pad<T> {
    padding: [usize; 4],
    mode: PadMode<T>,
}

impl<T: Scalar> Pad<T> {
    /// Padding for `(C, H, W)`: `[top, left, bottom, right]` (ONNX order; PyTorch's `F.pad` takes
    /// `(left, right, top, bottom)`).
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when a constant value is NaN or infinite.
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// let pad = Pad::new([1, 2, 2, 1], PadMode::Constant(0.0f32))?;
    /// assert_eq!(pad.padding(), [1, 2, 2, 1]);
    /// assert!(Pad::new([1, 1, 1, 1], PadMode::Constant(f32::NAN)).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(padding: [usize; 4], mode: PadMode<T>) -> Result<Self> {
        if let PadMode::Constant(v) = mode {
            if !v.finite() {
                return Err(Error::invalid(
                    format!("Pad(constant, {padding:?})"),
                    format!("the constant value {v} is not finite"),
                ));
            }
        }
        Ok(Pad { padding, mode })
    }

    /// Padding for `(C, L)`: `[left, right]` (PyTorch's `ConstantPad1d`, `ReflectionPad1d`, ...).
    ///
    /// # Errors
    /// As [`Pad::new`].
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// let pad = Pad::<f32>::new_1d([2, 1], PadMode::Replicate)?;
    /// assert_eq!(pad.padding(), [0, 2, 0, 1]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new_1d([left, right]: [usize; 2], mode: PadMode<T>) -> Result<Self> {
        Self::new([0, left, 0, right], mode)
    }

    /// `[top, left, bottom, right]`.
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// assert_eq!(Pad::<f32>::new([1, 0, 1, 0], PadMode::Reflect)?.padding(), [1, 0, 1, 0]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn padding(&self) -> [usize; 4] {
        self.padding
    }

    /// The fill mode.
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// assert_eq!(Pad::<f32>::new([1; 4], PadMode::Circular)?.mode(), PadMode::Circular);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn mode(&self) -> PadMode<T> {
        self.mode
    }

    /// Output size `[h + top + bottom, w + left + right]` for an input `[h, w]`, or the reason PyTorch
    /// refuses this padding for it.
    ///
    /// # Errors
    /// The reason, as a message, when the mode's limit is broken.
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// let pad = Pad::<f32>::new([0, 2, 0, 2], PadMode::Reflect)?;
    /// assert_eq!(pad.out_dims([4, 3]), Ok([4, 7]));
    /// assert!(pad.out_dims([4, 2]).unwrap_err().contains("smaller than"));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn out_dims(&self, [h, w]: [usize; 2]) -> Result<[usize; 2], String> {
        let [t, l, b, r] = self.padding;
        let axes = [("height", h, t, b), ("width", w, l, r)];
        for (axis, n, lo, hi) in axes {
            let pad = lo.max(hi);
            let ok = match self.mode {
                PadMode::Constant(_) => true,
                _ if pad == 0 => true,
                PadMode::Reflect => pad < n,
                PadMode::Circular => pad <= n,
                PadMode::Replicate => n > 0,
            };
            if !ok {
                let limit = match self.mode {
                    PadMode::Reflect => "smaller than",
                    PadMode::Circular => "at most",
                    _ => "used with a non-empty",
                };
                return Err(format!(
                    "{} padding {pad} must be {limit} the input {axis} {n}",
                    self.mode.name()
                ));
            }
        }
        let add = |n: usize, lo: usize, hi: usize| {
            n.checked_add(lo)
                .and_then(|x| x.checked_add(hi))
                .ok_or_else(|| "the padded size overflows".to_string())
        };
        Ok([add(h, t, b)?, add(w, l, r)?])
    }

    /// The same layer in another precision.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when the constant overflows `U`.
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// let pad = Pad::new([1; 4], PadMode::Constant(0.5f32))?;
    /// assert_eq!(pad.cast::<f64>()?.mode(), PadMode::Constant(0.5));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<Pad<U>> {
        let mode = match self.mode {
            PadMode::Constant(v) => PadMode::Constant(U::narrow(v.widen())),
            PadMode::Reflect => PadMode::Reflect,
            PadMode::Replicate => PadMode::Replicate,
            PadMode::Circular => PadMode::Circular,
        };
        Pad::new(self.padding, mode)
    }

    /// Short description, e.g. `Pad(reflect, [1, 1, 1, 1])` or `Pad(constant 0.5, [0, 1, 0, 1])`.
    ///
    /// ```
    /// use linear_collapse::layer::{Pad, PadMode};
    /// assert_eq!(Pad::new([1; 4], PadMode::Constant(0.0f32))?.describe(), "Pad(constant 0, [1, 1, 1, 1])");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        match self.mode {
            PadMode::Constant(v) => format!("Pad(constant {v}, {:?})", self.padding),
            m => format!("Pad({}, {:?})", m.name(), self.padding),
        }
    }
}
