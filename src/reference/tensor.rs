//! Layers on samples of any rank, as direct loops over blocks of the flat vector: slicing.

use super::{wrong, Step};
use crate::layer::Slice;
use crate::Shape;

/// The shape with these dimensions, as a mismatch when there are too many.
fn shape(dims: &[usize]) -> Result<Shape, (String, String)> {
    Shape::from_dims(dims).ok_or_else(|| wrong("at most 7 axes", "too many axes"))
}

/// Blocks: for each position before the axis, the picked indices along it, each a contiguous run of the
/// elements after it.
pub(super) fn slice(s: &Slice, shape_in: Shape, x: &[f64]) -> Step {
    let dims = shape_in.dims();
    let a = s.axis();
    let expected = format!("at least {} axes", a + 1);
    if a >= dims.len() {
        return Err(wrong(expected, "the axis does not exist"));
    }
    if s.len() > dims[a] {
        return Err(wrong(expected, "more indices than the axis has"));
    }
    let mut picks = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let k = s.start() as i128 + i as i128 * s.step() as i128;
        if k < 0 || k >= dims[a] as i128 {
            return Err(wrong(expected, "an index falls outside the axis"));
        }
        picks.push(k as usize);
    }
    let outer: usize = dims[..a].iter().product();
    let inner: usize = dims[a + 1..].iter().product();
    let mut y = Vec::with_capacity(outer * picks.len() * inner);
    for o in 0..outer {
        for &k in &picks {
            let from = (o * dims[a] + k) * inner;
            y.extend_from_slice(&x[from..from + inner]);
        }
    }
    let mut out = dims;
    out[a] = picks.len();
    Ok((y, shape(&out)?))
}
