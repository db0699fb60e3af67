//! NumPy `.npy` files: the collapsed weight and bias for `numpy.load`, and golden data in the tests.

use std::path::Path;

use ndarray::{Array, Dimension};
use ndarray_npy::{ReadableElement, WritableElement};

use crate::{Error, Result};

/// Writes an array as `.npy`.
///
/// # Errors
/// [`Error::Format`] naming the file when writing fails.
pub fn write<A: WritableElement, D: Dimension>(
    path: impl AsRef<Path>,
    array: &Array<A, D>,
) -> Result<()> {
    let path = path.as_ref();
    ndarray_npy::write_npy(path, array).map_err(|e| Error::Format {
        context: path.display().to_string(),
        source: Box::new(e),
    })
}

/// Reads an array from `.npy`, checking element type and number of dimensions.
///
/// # Errors
/// [`Error::Format`] naming the file when it is missing, truncated, or of another type or rank.
pub fn read<A: ReadableElement, D: Dimension>(path: impl AsRef<Path>) -> Result<Array<A, D>> {
    let path = path.as_ref();
    ndarray_npy::read_npy(path).map_err(|e| Error::Format {
        context: path.display().to_string(),
        source: Box::new(e),
    })
}
