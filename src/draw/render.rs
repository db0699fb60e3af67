//! Writing a picture to a file: PNG or SVG, chosen by the file name's extension.

use std::collections::HashMap;
use std::io::BufWriter;
use std::path::Path;

use plotters::prelude::*;

use super::text::{Canvas, Drawn};
use crate::{Error, Result};

/// Something drawn on a canvas of a size it knows.
pub(super) trait Picture {
    /// Canvas size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole picture on `canvas`, which has [`Picture::size`].
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB>;
}

/// Draws `picture` into `path`, a `.png` (bitmap, text set from the embedded DejaVu Sans) or a `.svg`.
pub(super) fn render(path: &Path, picture: &impl Picture) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| Error::format(path.display().to_string(), e.to_string());
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("png") => {
            let (w, h) = picture.size();
            let mut rgb = vec![0u8; 3 * w as usize * h as usize];
            {
                let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                let canvas = Canvas {
                    area: &area,
                    raster: true,
                };
                picture.draw(&canvas).map_err(|e| fail(&e))?;
                area.present().map_err(|e| fail(&e))?;
            }
            write_png(path, &rgb, (w, h)).map_err(|e| fail(&e))
        }
        Some(e) if e.eq_ignore_ascii_case("svg") => {
            let area = SVGBackend::new(path, picture.size()).into_drawing_area();
            let canvas = Canvas {
                area: &area,
                raster: false,
            };
            picture.draw(&canvas).map_err(|e| fail(&e))?;
            area.present().map_err(|e| fail(&e))
        }
        _ => Err(Error::invalid(
            "draw",
            format!("{}: the file name must end in .png or .svg", path.display()),
        )),
    }
}

/// Writes the RGB pixels `rgb` as a PNG: indexed (one byte a pixel) when they use at most 256 colours,
/// which the heat maps and patterns do, else RGB; compressed at the best level.
fn write_png(
    path: &Path,
    rgb: &[u8],
    (w, h): (u32, u32),
) -> std::result::Result<(), png::EncodingError> {
    let file = std::fs::File::create(path)?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), w, h);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let data = match palette_of(rgb) {
        Some((palette, indices)) => {
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(palette);
            encoder.set_filter(png::FilterType::NoFilter);
            indices
        }
        None => {
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
            rgb.to_vec()
        }
    };
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&data)?;
    writer.finish()
}

/// The palette (RGB triples) and the index of every pixel, when `rgb` has at most 256 colours.
fn palette_of(rgb: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut index: HashMap<[u8; 3], u8> = HashMap::new();
    let mut palette = Vec::new();
    let mut indices = Vec::with_capacity(rgb.len() / 3);
    for px in rgb.chunks_exact(3) {
        let key = [px[0], px[1], px[2]];
        let i = match index.get(&key) {
            Some(&i) => i,
            None => {
                let i = u8::try_from(index.len()).ok()?;
                index.insert(key, i);
                palette.extend_from_slice(&key);
                i
            }
        };
        indices.push(i);
    }
    Some((palette, indices))
}
