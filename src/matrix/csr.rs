//! A minimal compressed-sparse-row matrix (SciPy's layout) and the products the composer needs.

use ndarray::{Array2, ArrayView2};

use crate::{memory, Error, Par, Result, Scalar};

/// A sparse matrix in CSR form: row `r` holds `indices[indptr[r]..indptr[r+1]]` with values `data[..]`.
///
/// The layout is SciPy's `csr_matrix((data, indices, indptr), shape)`, so it crosses to Python unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct Csr<T> {
    nrows: usize,
    ncols: usize,
    indptr: Vec<usize>,
    indices: Vec<usize>,
    data: Vec<T>,
}

impl<T: Scalar> Csr<T> {
    /// Builds a CSR matrix from its parts, checking they are consistent (column indices in range and
    /// strictly increasing within each row).
    ///
    /// # Errors
    /// [`Error::Format`] naming the first inconsistency.
    ///
    /// ```
    /// use linear_collapse::matrix::Csr;
    /// let m = Csr::from_parts(2, 3, vec![0, 1, 3], vec![2, 0, 1], vec![1.0f32, 2.0, 3.0])?;
    /// assert_eq!(m.to_dense()?[[1, 1]], 3.0);
    /// assert!(Csr::from_parts(1, 1, vec![0, 1], vec![5], vec![1.0f32]).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn from_parts(
        nrows: usize,
        ncols: usize,
        indptr: Vec<usize>,
        indices: Vec<usize>,
        data: Vec<T>,
    ) -> Result<Self> {
        let bad = |m: String| Err(Error::format("CSR matrix", m));
        if indptr.len() != nrows + 1 || indptr[0] != 0 {
            return bad(format!(
                "indptr must have {} entries starting at 0",
                nrows + 1
            ));
        }
        if indices.len() != data.len() || indptr[nrows] != data.len() {
            return bad("indptr, indices and data disagree on the number of entries".into());
        }
        for r in 0..nrows {
            let (lo, hi) = (indptr[r], indptr[r + 1]);
            if lo > hi || hi > indices.len() {
                return bad(format!("indptr is not non-decreasing at row {r}"));
            }
            let row = &indices[lo..hi];
            if row.iter().any(|&c| c >= ncols) || row.windows(2).any(|w| w[0] >= w[1]) {
                return bad(format!(
                    "row {r} has column indices out of range or unsorted"
                ));
            }
        }
        Ok(Csr {
            nrows,
            ncols,
            indptr,
            indices,
            data,
        })
    }

    /// Builds a CSR matrix from `(row, column, value)` triplets in any order; entries at the same position
    /// are summed (SciPy's `coo_matrix((data, (row, col)), shape).tocsr()`).
    ///
    /// # Errors
    /// [`Error::Format`] naming the first triplet outside the matrix.
    ///
    /// ```
    /// use linear_collapse::matrix::Csr;
    /// let m = Csr::from_triplets(2, 2, vec![(1, 0, 1.0f32), (0, 1, 2.0), (1, 0, 0.5)])?;
    /// assert_eq!(m.to_dense()?, ndarray::array![[0.0, 2.0], [1.5, 0.0]]);
    /// assert!(Csr::from_triplets(1, 1, vec![(0, 1, 1.0f32)]).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        mut triplets: Vec<(usize, usize, T)>,
    ) -> Result<Self> {
        if let Some(&(r, c, _)) = triplets.iter().find(|t| t.0 >= nrows || t.1 >= ncols) {
            return Err(Error::format(
                "CSR matrix",
                format!("triplet ({r}, {c}) is outside the {nrows}x{ncols} matrix"),
            ));
        }
        // stable: duplicates are summed in the order given
        triplets.sort_by_key(|&(r, c, _)| (r, c));
        let mut indptr = vec![0usize; nrows + 1];
        let mut indices = Vec::with_capacity(triplets.len());
        let mut data: Vec<T> = Vec::with_capacity(triplets.len());
        let mut last = None;
        for (r, c, v) in triplets {
            match data.last_mut() {
                Some(sum) if last == Some((r, c)) => *sum += v,
                _ => {
                    indptr[r + 1] += 1;
                    indices.push(c);
                    data.push(v);
                    last = Some((r, c));
                }
            }
        }
        for r in 0..nrows {
            indptr[r + 1] += indptr[r];
        }
        Ok(Csr::from_parts_unchecked(
            nrows, ncols, indptr, indices, data,
        ))
    }

    /// Builds without checks; the caller guarantees the invariants of [`Csr::from_parts`].
    pub(crate) fn from_parts_unchecked(
        nrows: usize,
        ncols: usize,
        indptr: Vec<usize>,
        indices: Vec<usize>,
        data: Vec<T>,
    ) -> Self {
        debug_assert_eq!(indptr.len(), nrows + 1);
        debug_assert_eq!(indices.len(), data.len());
        Csr {
            nrows,
            ncols,
            indptr,
            indices,
            data,
        }
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Row pointers (`nrows + 1` entries).
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// Column index of every stored entry.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// Value of every stored entry.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The column indices and values of row `r`.
    ///
    /// # Panics
    /// When `r >= nrows`.
    #[track_caller]
    pub fn row(&self, r: usize) -> (&[usize], &[T]) {
        let (lo, hi) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[lo..hi], &self.data[lo..hi])
    }

    /// The matrix as a dense array.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when it would take more than [`memory::default_budget`] bytes.
    ///
    /// ```
    /// use linear_collapse::matrix::Csr;
    /// let m = Csr::from_parts(1, 2, vec![0, 1], vec![1], vec![4.0f64])?;
    /// assert_eq!(m.to_dense()?, ndarray::array![[0.0, 4.0]]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn to_dense(&self) -> Result<Array2<T>> {
        memory::check(
            || format!("a dense {}x{} matrix", self.nrows, self.ncols),
            memory::matrix_bytes(self.nrows, self.ncols, std::mem::size_of::<T>()),
            memory::default_budget(),
            "",
        )?;
        let mut out = vec![T::zero(); self.nrows * self.ncols];
        if self.ncols > 0 {
            Par::Rayon.for_each_chunk(&mut out, self.ncols, |r, dst| {
                let (cols, vals) = self.row(r);
                for (&c, &v) in cols.iter().zip(vals) {
                    dst[c] = v;
                }
            });
        }
        Ok(
            Array2::from_shape_vec((self.nrows, self.ncols), out)
                .expect("shape matches the buffer"),
        )
    }

    /// `A x` for a dense vector.
    ///
    /// # Panics
    /// When `x.len() != ncols`.
    ///
    /// ```
    /// use linear_collapse::matrix::Csr;
    /// let m = Csr::from_parts(1, 2, vec![0, 2], vec![0, 1], vec![1.0f32, 2.0])?;
    /// assert_eq!(m.mul_vec(&[3.0, 4.0]), vec![11.0]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    #[track_caller]
    pub fn mul_vec(&self, x: &[T]) -> Vec<T> {
        assert_eq!(x.len(), self.ncols, "vector length");
        (0..self.nrows)
            .map(|r| {
                let (cols, vals) = self.row(r);
                cols.iter()
                    .zip(vals)
                    .fold(T::zero(), |acc, (&c, &v)| acc + v * x[c])
            })
            .collect()
    }

    /// `M A` for a dense `M` with `ncols(M) == nrows(A)`: each output row is a sum of `A`'s rows weighted by
    /// one row of `M`. Cost `rows(M) * nnz(A)` multiply-adds; parallel over blocks of output rows, each block
    /// scanning `A` once. Every entry sums over `k` in order, so the bits do not depend on the threads.
    ///
    /// # Panics
    /// When the inner dimensions differ.
    ///
    /// ```
    /// use linear_collapse::{matrix::Csr, Par};
    /// use ndarray::array;
    /// let a = Csr::from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![1.0f32, 1.0])?; // a swap
    /// let m = array![[1.0f32, 2.0]];
    /// assert_eq!(a.left_mul(m.view(), Par::Seq), array![[2.0, 1.0]]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    #[track_caller]
    pub fn left_mul(&self, m: ArrayView2<T>, par: Par) -> Array2<T> {
        /// Rows of `M` that share one scan of `A`.
        const BLOCK: usize = 8;
        assert_eq!(m.ncols(), self.nrows, "inner dimension");
        let n = self.ncols;
        let mut out = vec![T::zero(); m.nrows() * n];
        if n > 0 {
            par.for_each_chunk(&mut out, BLOCK * n, |blk, dst| {
                let r0 = blk * BLOCK;
                let rb = dst.len() / n;
                let mut w = [T::zero(); BLOCK];
                for k in 0..self.nrows {
                    for (j, wj) in w.iter_mut().enumerate().take(rb) {
                        *wj = m[[r0 + j, k]];
                    }
                    if w[..rb].iter().all(|&x| x == T::zero()) {
                        continue;
                    }
                    let (cols, vals) = self.row(k);
                    for (j, &wj) in w.iter().enumerate().take(rb) {
                        let row = &mut dst[j * n..(j + 1) * n];
                        for (&c, &v) in cols.iter().zip(vals) {
                            row[c] += wj * v;
                        }
                    }
                }
            });
        }
        Array2::from_shape_vec((m.nrows(), n), out).expect("shape matches the buffer")
    }

    /// `A D` for a dense `D` with `nrows(D) == ncols(A)`: each output row is a sum of `D`'s rows. Cost
    /// `nnz(A) * cols(D)`; parallel over output rows.
    ///
    /// # Panics
    /// When the inner dimensions differ.
    ///
    /// ```
    /// use linear_collapse::{matrix::Csr, Par};
    /// use ndarray::array;
    /// let a = Csr::from_parts(1, 2, vec![0, 2], vec![0, 1], vec![1.0f64, 2.0])?;
    /// assert_eq!(a.right_mul(array![[1.0, 0.0], [0.0, 1.0]].view(), Par::Seq), array![[1.0, 2.0]]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    #[track_caller]
    pub fn right_mul(&self, d: ArrayView2<T>, par: Par) -> Array2<T> {
        assert_eq!(d.nrows(), self.ncols, "inner dimension");
        let n = d.ncols();
        let mut out = vec![T::zero(); self.nrows * n];
        if n > 0 {
            par.for_each_chunk(&mut out, n, |r, dst| {
                let (cols, vals) = self.row(r);
                for (&k, &v) in cols.iter().zip(vals) {
                    for (o, &x) in dst.iter_mut().zip(d.row(k)) {
                        *o += v * x;
                    }
                }
            });
        }
        Array2::from_shape_vec((self.nrows, n), out).expect("shape matches the buffer")
    }
}
