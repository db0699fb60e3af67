//! The options every entry point takes: how products are computed, in what precision, on how many
//! threads, within what memory, and (for models) which runs are replaced.

use crate::{memory, Par};

/// How each product with a convolution is computed; see [`crate::compose::plan::Kernel`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// The planner picks the order and the kernel of every product from the cost model.
    #[default]
    Auto,
    /// Build each Toeplitz matrix densely and multiply with the parallel GEMM: the teaching path,
    /// `F*n_mid*n_in` multiply-adds and `n_mid*n_in` extra memory.
    Dense,
    /// Keep each Toeplitz matrix in CSR and multiply the dense rows by it: `F*nnz(T)` multiply-adds.
    Sparse,
    /// Reverse mode: fold the dense rows back through each transposed convolution (GEMM + col2im),
    /// `F*nnz(T)` multiply-adds at GEMM speed and no Toeplitz matrix in memory.
    Im2col,
}

/// The precision the products are accumulated in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Accumulate {
    /// The weights' own type.
    #[default]
    Native,
    /// Widen to `f64`, compose, and round the result once (for `f32` weights: the result is the `f32`
    /// rounding of the exact answer, up to `f64` error).
    F64,
}

/// Options of [`crate::collapse`] and [`crate::collapse_model`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How convolution products are computed.
    pub method: Method,
    /// Accumulation precision.
    pub accumulate: Accumulate,
    /// Threads.
    pub par: Par,
    /// Largest working set, in bytes, a plan may allocate; checked before allocating.
    pub memory_budget: u64,
    /// For models: which pieces of the linear parts are replaced.
    pub policy: Policy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::default(),
            accumulate: Accumulate::default(),
            par: Par::default(),
            memory_budget: memory::default_budget(),
            policy: Policy::default(),
        }
    }
}

/// Which pieces of a model's linear parts are replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Never more multiply-adds per sample: each linear group is partitioned into kept nodes and pieces
    /// replaced by one layer so that the total multiply-adds are least (ties: fewer parameters). A
    /// BatchNorm still folds into its conv, two 1x1 convs that would cost more as one stay two.
    #[default]
    Macs,
    /// Never more parameters (the smaller file): the same partition, by parameters first.
    Params,
    /// Every linear group that reads one value and gives one becomes its smallest single form, even when
    /// that costs more (the report says how much); other groups as under `Macs`.
    Force,
}
