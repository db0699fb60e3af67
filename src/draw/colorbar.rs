//! The colour scale of the heat maps (white at zero, red for positive, blue for negative values) and the
//! colour bar that prints it.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::text::{width, Anchor, Canvas, Drawn};

const BAR: i32 = 16;
const TICK_FONT: f64 = 13.0;

/// The range a colour bar shows: `[-hi, hi]` when some value is negative, `[0, hi]` otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Scale {
    pub lo: f64,
    pub hi: f64,
}

impl Scale {
    /// The scale of `values` together.
    pub fn of<'a>(values: impl IntoIterator<Item = &'a f64>) -> Scale {
        let (mut neg, mut hi) = (false, 0.0f64);
        for &v in values {
            neg |= v < 0.0;
            hi = hi.max(v.abs());
        }
        Scale {
            lo: if neg { -hi } else { 0.0 },
            hi,
        }
    }

    /// The colour of `v`: linear from white at 0 to full red at `hi` (full blue at `-hi`).
    pub fn colour(&self, v: f64) -> RGBColor {
        let t = if self.hi > 0.0 {
            (v / self.hi).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let fade = (255.0 * (1.0 - t.abs())).round() as u8;
        if t < 0.0 {
            RGBColor(fade, fade, 255)
        } else {
            RGBColor(255, fade, fade)
        }
    }

    /// Black or white, whichever reads on the colour of `v`.
    pub fn ink_on(&self, v: f64) -> RGBColor {
        if self.hi > 0.0 && (v / self.hi).abs() > 0.6 {
            WHITE
        } else {
            BLACK
        }
    }
}

/// Round tick values inside `[lo, hi]`: 3 to 6 of them, multiples of 1, 2 or 5 times a power of ten.
pub(super) fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 4.0;
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| (hi - lo) / s <= 5.0)
        .unwrap_or(10.0 * pow);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A number as short as it reads: `3`, `-0.5`, `0.25`, `1.2e-5`.
pub(super) fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if (v - v.round()).abs() < 1e-9 && v.abs() < 1e6 {
        return format!("{}", v.round() as i64);
    }
    if v.abs() >= 1e-3 {
        let s = format!("{v:.3}");
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{v:.1e}")
}

/// Width in pixels of the colour bar of `scale`: the bar, its tick labels and its title.
pub(super) fn bar_width(scale: Scale) -> i32 {
    BAR + 16 + widest_tick(scale).ceil() as i32 + 18
}

fn widest_tick(scale: Scale) -> f64 {
    ticks(scale.lo, scale.hi)
        .into_iter()
        .map(|t| width(&short(t), TICK_FONT))
        .fold(0.0, f64::max)
}

/// Draws a vertical colour bar for `scale` with its top-left corner at `(x, y)`, `height` pixels tall,
/// tick labels on its right and `title` along its right edge, reading upwards.
pub(super) fn draw_colorbar<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    scale: Scale,
    (x, y): (i32, i32),
    height: u32,
    title: &str,
) -> Drawn<DB> {
    let h = height.max(2) as i32;
    let value_at = |row: i32| scale.hi - (scale.hi - scale.lo) * row as f64 / (h - 1) as f64;
    for row in 0..h {
        canvas.rect(
            (x, y + row),
            (x + BAR, y + row + 1),
            scale.colour(value_at(row)).filled(),
        )?;
    }
    canvas.rect((x, y), (x + BAR, y + h), BLACK.stroke_width(1))?;
    for t in ticks(scale.lo, scale.hi) {
        let ty = y
            + ((scale.hi - t) / (scale.hi - scale.lo).max(f64::MIN_POSITIVE) * (h - 1) as f64)
                .round() as i32;
        canvas.line((x + BAR, ty), (x + BAR + 4, ty), BLACK.stroke_width(1))?;
        canvas.text(
            &short(t),
            (x + BAR + 7, ty),
            TICK_FONT,
            Anchor::at(HPos::Left, VPos::Center),
            BLACK,
        )?;
    }
    let title_x = x + BAR + 16 + widest_tick(scale).ceil() as i32;
    canvas.text(title, (title_x, y + h / 2), TICK_FONT, Anchor::UP, BLACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 4.0), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ticks(-9.0, 9.0), vec![-5.0, 0.0, 5.0]);
        let unit: Vec<String> = ticks(0.0, 1.0).into_iter().map(short).collect();
        assert_eq!(unit, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(3.0), "3");
        assert_eq!(short(-0.5), "-0.5");
        assert_eq!(short(0.125), "0.125");
        assert_eq!(short(1.5e-5), "1.5e-5");
    }

    #[test]
    fn scale_of_positive_values_starts_at_zero() {
        assert_eq!(Scale::of(&[1.0, 4.0]), Scale { lo: 0.0, hi: 4.0 });
        assert_eq!(Scale::of(&[1.0, -4.0]), Scale { lo: -4.0, hi: 4.0 });
    }
}
