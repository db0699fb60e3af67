//! Text on a [`Canvas`]: PNG text is rasterised here with the embedded DejaVu Sans, glyph by glyph with
//! their side bearings and kerning; SVG text is an SVG `<text>` element (the viewer sets it).

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The result of drawing on `DB`.
pub(super) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A drawing area and how its text is set.
pub(super) struct Canvas<'a, DB: DrawingBackend> {
    pub area: &'a DrawingArea<DB, Shift>,
    /// Rasterise text here (PNG) rather than leave it to the viewer (SVG).
    pub raster: bool,
}

/// Where a text's anchor point sits: horizontal and vertical position, and whether it reads upwards.
#[derive(Clone, Copy)]
pub(super) struct Anchor {
    pub h: HPos,
    pub v: VPos,
    pub upright: bool,
}

impl Anchor {
    pub const LEFT_TOP: Anchor = Anchor::at(HPos::Left, VPos::Top);
    pub const CENTRE: Anchor = Anchor::at(HPos::Center, VPos::Center);

    pub const fn at(h: HPos, v: VPos) -> Anchor {
        Anchor {
            h,
            v,
            upright: false,
        }
    }

    /// Reading from bottom to top, centred on the anchor point (a y axis label).
    pub const UP: Anchor = Anchor {
        h: HPos::Center,
        v: VPos::Center,
        upright: true,
    };
}

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(include_bytes!("../../assets/DejaVuSans.ttf"))
            .expect("the embedded DejaVu Sans is a valid TrueType font")
    })
}

/// Width of `s` in pixels at `size` (the line height, ascent to descent).
pub(super) fn width(s: &str, size: f64) -> f64 {
    let f = font().as_scaled(PxScale::from(size as f32));
    let mut x = 0.0;
    let mut prev = None;
    for c in s.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        x += f.h_advance(id);
        prev = Some(id);
    }
    x as f64
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    /// Draws `s` at `pos` with `size` pixels from ascent to descent.
    pub fn text(
        &self,
        s: &str,
        pos: (i32, i32),
        size: f64,
        anchor: Anchor,
        colour: RGBColor,
    ) -> Drawn<DB> {
        if self.raster {
            return self.raster_text(s, pos, size, anchor, colour);
        }
        let mut font = ("sans-serif", size).into_font().color(&colour);
        if anchor.upright {
            font = font.transform(FontTransform::Rotate270);
        }
        self.area.draw(&Text::new(
            s.to_string(),
            pos,
            font.pos(Pos::new(anchor.h, anchor.v)),
        ))
    }

    fn raster_text(
        &self,
        s: &str,
        pos: (i32, i32),
        size: f64,
        anchor: Anchor,
        colour: RGBColor,
    ) -> Drawn<DB> {
        let f = font().as_scaled(PxScale::from(size as f32));
        let w = width(s, size) as f32;
        let h = f.ascent() - f.descent();
        let dx = match anchor.h {
            HPos::Left => 0.0,
            HPos::Center => -w / 2.0,
            HPos::Right => -w,
        };
        let dy = match anchor.v {
            VPos::Top => 0.0,
            VPos::Center => -h / 2.0,
            VPos::Bottom => -h,
        };
        let mut pen = dx;
        let mut prev = None;
        let mut pixels = Vec::new();
        for c in s.chars() {
            let id = f.glyph_id(c);
            if let Some(p) = prev {
                pen += f.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(f.scale(), point(pen, dy + f.ascent()));
            pen += f.h_advance(id);
            let Some(outline) = f.outline_glyph(glyph) else {
                continue;
            };
            let min = outline.px_bounds().min;
            outline.draw(|x, y, cover| {
                let (u, v) = (min.x as i32 + x as i32, min.y as i32 + y as i32);
                let (px, py) = if anchor.upright {
                    (pos.0 + v, pos.1 - u)
                } else {
                    (pos.0 + u, pos.1 + v)
                };
                pixels.push(((px, py), cover));
            });
        }
        for (p, cover) in pixels {
            if cover > 0.0 {
                self.area
                    .draw(&Pixel::new(p, colour.mix(cover.min(1.0) as f64)))?;
            }
        }
        Ok(())
    }

    /// A rectangle from `a` to `b` (exclusive), filled or outlined.
    pub fn rect(&self, a: (i32, i32), b: (i32, i32), style: impl Into<ShapeStyle>) -> Drawn<DB> {
        self.area.draw(&Rectangle::new([a, b], style))
    }

    /// A straight line from `a` to `b`.
    pub fn line(&self, a: (i32, i32), b: (i32, i32), style: impl Into<ShapeStyle>) -> Drawn<DB> {
        self.area.draw(&PathElement::new(vec![a, b], style))
    }
}
