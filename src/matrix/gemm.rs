//! Parallel dense GEMM: fixed output tiles, each one `matrixmultiply` call, spread over rayon.
//!
//! The tiles depend only on the matrix sizes, so the result is bit-identical with any number of threads;
//! `matrixmultiply` runs single-threaded inside each tile, so there is one level of parallelism.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::{Par, Scalar};

/// Rows of one output tile.
const TILE_M: usize = 128;
/// Columns of one output tile.
const TILE_N: usize = 512;

/// `A B`, computed in parallel over fixed tiles of the output.
///
/// # Panics
/// When `a.ncols() != b.nrows()`.
///
/// ```
/// use linear_collapse::{matrix::gemm, Par};
/// use ndarray::array;
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// assert_eq!(gemm(a.view(), a.view(), Par::Rayon), array![[7.0, 10.0], [15.0, 22.0]]);
/// ```
#[track_caller]
pub fn gemm<T: Scalar>(a: ArrayView2<T>, b: ArrayView2<T>, par: Par) -> Array2<T> {
    assert_eq!(a.ncols(), b.nrows(), "inner dimension");
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let mut c = Array2::<T>::zeros((m, n));
    if m == 0 || n == 0 || k == 0 {
        return c;
    }
    // Disjoint tiles of `c`, each with the rows of `a` and the columns of `b` it needs.
    let mut tiles: Vec<(ArrayView2<T>, ArrayView2<T>, ArrayViewMut2<T>)> = Vec::new();
    for (ti, mut rest) in c.axis_chunks_iter_mut(Axis(0), TILE_M).enumerate() {
        let i0 = ti * TILE_M;
        let a_rows = a.slice(s![i0..i0 + rest.nrows(), ..]);
        let mut j0 = 0;
        while rest.ncols() > 0 {
            let cut = TILE_N.min(rest.ncols());
            let (tile, tail) = rest.split_at(Axis(1), cut);
            tiles.push((a_rows, b.slice(s![.., j0..j0 + tile.ncols()]), tile));
            j0 += TILE_N;
            rest = tail;
        }
    }
    let run =
        |(a, b, mut c): (ArrayView2<T>, ArrayView2<T>, ArrayViewMut2<T>)| gemm_into(a, b, &mut c);
    match par {
        Par::Seq => tiles.into_iter().for_each(run),
        Par::Rayon => tiles.into_par_iter().for_each(run),
    }
    c
}

/// `c = a b` on views of any strides: one single-threaded `matrixmultiply` call (through ndarray's
/// `general_mat_mul`), the kernel every product of this crate ends in.
///
/// # Panics
/// When the dimensions do not agree.
#[track_caller]
pub(crate) fn gemm_into<T: Scalar>(a: ArrayView2<T>, b: ArrayView2<T>, c: &mut ArrayViewMut2<T>) {
    general_mat_mul(T::one(), &a, &b, T::zero(), c);
}

/// `A x`, in parallel over blocks of rows; each row's dot product is sequential, so the bits do not
/// depend on the number of threads.
///
/// # Panics
/// When `a.ncols() != x.len()`.
///
/// ```
/// use linear_collapse::{matrix::gemv, Par};
/// use ndarray::array;
/// assert_eq!(gemv(array![[1.0f32, 2.0]].view(), &array![3.0, 4.0], Par::Rayon), array![11.0]);
/// ```
#[track_caller]
pub fn gemv<T: Scalar>(a: ArrayView2<T>, x: &ndarray::Array1<T>, par: Par) -> ndarray::Array1<T> {
    assert_eq!(a.ncols(), x.len(), "inner dimension");
    let mut y = vec![T::zero(); a.nrows()];
    par.for_each_chunk(&mut y, 8, |blk, dst| {
        for (i, v) in dst.iter_mut().enumerate() {
            *v = a.row(blk * 8 + i).dot(x);
        }
    });
    ndarray::Array1::from(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn matches_ndarray_dot_across_tiles() {
        let a = Array2::from_shape_fn((300, 70), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((70, 1100), |(i, j)| ((i * 5 + j) % 13) as f64 - 6.0);
        // integer-valued: exact in f64 whatever the summation order
        assert_eq!(gemm(a.view(), b.view(), Par::Rayon), a.dot(&b));
        let bt = b.t().to_owned();
        assert_eq!(gemm(a.view(), bt.t(), Par::Seq), a.dot(&b));
    }
}
