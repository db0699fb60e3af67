//! Parallel dense GEMM: fixed output tiles, each one `matrixmultiply` call, spread over rayon.
//!
//! The tiles depend only on the matrix sizes, so the result is bit-identical with any number of threads;
//! `matrixmultiply` runs single-threaded inside each tile, so there is one level of parallelism.

use ndarray::{Array2, ArrayView2};

use crate::{Par, Scalar};

/// Rows of one output tile.
const TILE_M: usize = 128;
/// Columns of one output tile.
const TILE_N: usize = 512;

/// A raw pointer that may cross threads: each tile writes a disjoint part of the output.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: tiles never overlap, so no two threads write the same element.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above; the pointer is only read to compute tile offsets.
unsafe impl<T> Sync for SendPtr<T> {}

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
    let tiles_m = m.div_ceil(TILE_M);
    let tiles_n = n.div_ceil(TILE_N);
    let cptr = SendPtr(c.as_mut_ptr());
    let (rsa, csa) = (a.strides()[0], a.strides()[1]);
    let (rsb, csb) = (b.strides()[0], b.strides()[1]);
    let (ap, bp) = (SendPtr(a.as_ptr() as *mut T), SendPtr(b.as_ptr() as *mut T));
    par.for_each(tiles_m * tiles_n, move |t| {
        let (ti, tj) = (t / tiles_n, t % tiles_n);
        let (i0, j0) = (ti * TILE_M, tj * TILE_N);
        let (mt, nt) = (TILE_M.min(m - i0), TILE_N.min(n - j0));
        let (ap, bp, cp) = (ap, bp, cptr);
        // SAFETY: offsets stay inside the three matrices (i0 < m, j0 < n); tiles are disjoint in `c`, which
        // is standard layout with row stride `n`.
        unsafe {
            T::gemm_raw(
                mt,
                k,
                nt,
                ap.0.offset(i0 as isize * rsa),
                rsa,
                csa,
                bp.0.offset(j0 as isize * csb),
                rsb,
                csb,
                cp.0.add(i0 * n + j0),
                n as isize,
                1,
            );
        }
    });
    c
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
