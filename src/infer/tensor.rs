//! Output shapes of the layers that act on samples of any rank (slicing, broadcasting, reductions,
//! resizing, moving blocks between depth and space). Each returns the reason a shape does not fit.

use crate::layer::Slice;
use crate::Shape;

/// The shape with these dimensions, or why it cannot be one.
fn shape_of(dims: &[usize]) -> Result<Shape, String> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("the output's size {dims:?} overflows"))?;
    Shape::from_dims(dims).ok_or_else(|| format!("the output {dims:?} has too many axes"))
}

pub(super) fn slice(s: &Slice, input: Shape) -> Result<Shape, String> {
    let mut dims = input.dims();
    let Some(n) = dims.get_mut(s.axis()) else {
        return Err(format!(
            "it slices axis {} but the input has {} axes",
            s.axis(),
            input.rank()
        ));
    };
    let (low, high) = s.input_range();
    if high >= *n {
        return Err(format!(
            "it reads indices {low}..={high} of axis {}, which has {n}",
            s.axis()
        ));
    }
    *n = s.len();
    shape_of(&dims)
}
