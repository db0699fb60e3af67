//! Matrices of lowered layers: dense, sparse (CSR) or the identity, and the parallel products on them.

mod csr;
mod gemm;

pub use csr::Csr;
pub(crate) use gemm::gemm_into;
pub use gemm::{gemm, gemv};

use ndarray::{Array1, Array2};

use crate::Scalar;

/// The linear part of an affine map.
#[derive(Clone, Debug, PartialEq)]
pub enum Matrix<T> {
    /// A dense matrix.
    Dense(Array2<T>),
    /// A sparse matrix in compressed sparse row form.
    Sparse(Csr<T>),
    /// The `n x n` identity (Flatten, and the other layers that only re-index).
    Identity(usize),
}

impl<T: Scalar> Matrix<T> {
    /// `(rows, cols)`.
    ///
    /// ```
    /// use linear_collapse::matrix::Matrix;
    /// assert_eq!(Matrix::<f32>::Identity(4).dim(), (4, 4));
    /// ```
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Matrix::Dense(a) => a.dim(),
            Matrix::Sparse(s) => (s.nrows(), s.ncols()),
            Matrix::Identity(n) => (*n, *n),
        }
    }

    /// `A v` for a vector.
    ///
    /// # Panics
    /// When `v.len()` differs from the number of columns.
    ///
    /// ```
    /// use linear_collapse::matrix::Matrix;
    /// use ndarray::array;
    /// assert_eq!(Matrix::<f32>::Identity(2).mul_vec(&array![1.0, 2.0]), array![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn mul_vec(&self, v: &Array1<T>) -> Array1<T> {
        assert_eq!(v.len(), self.dim().1, "vector length");
        match self {
            Matrix::Dense(a) => a.dot(v),
            Matrix::Sparse(s) => Array1::from(s.mul_vec(&v.to_vec())),
            Matrix::Identity(_) => v.clone(),
        }
    }

    /// The matrix as a dense array.
    ///
    /// ```
    /// use linear_collapse::matrix::Matrix;
    /// use ndarray::Array2;
    /// assert_eq!(Matrix::<f64>::Identity(2).to_dense()?, Array2::<f64>::eye(2));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::TooLarge`] when a sparse or identity matrix would take more than
    /// [`crate::memory::default_budget`] bytes dense.
    pub fn to_dense(&self) -> crate::Result<Array2<T>> {
        match self {
            Matrix::Dense(a) => Ok(a.clone()),
            Matrix::Sparse(s) => s.to_dense(),
            Matrix::Identity(n) => {
                crate::memory::check(
                    || format!("a dense {n}x{n} identity"),
                    crate::memory::matrix_bytes(*n, *n, std::mem::size_of::<T>()),
                    crate::memory::default_budget(),
                    "",
                )?;
                Ok(Array2::eye(*n))
            }
        }
    }
}

/// An affine map `x -> A x + a`: what every linear layer lowers to.
#[derive(Clone, Debug, PartialEq)]
pub struct AffineMap<T> {
    /// `A`, `(n_out, n_in)`.
    pub matrix: Matrix<T>,
    /// `a`, `(n_out,)`.
    pub bias: Array1<T>,
}

impl<T: Scalar> AffineMap<T> {
    /// Applies the map to one flat sample.
    ///
    /// # Panics
    /// When `x.len()` differs from the number of columns.
    ///
    /// ```
    /// use linear_collapse::matrix::{AffineMap, Matrix};
    /// use ndarray::array;
    /// let m = AffineMap { matrix: Matrix::Identity(2), bias: array![1.0f32, 1.0] };
    /// assert_eq!(m.apply(&array![1.0, 2.0]), array![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn apply(&self, x: &Array1<T>) -> Array1<T> {
        self.matrix.mul_vec(x) + &self.bias
    }
}
