//! # linear-collapse
//!
//! A chain of layers with no nonlinearity between them — `Conv2d -> Flatten -> Linear`, `Linear -> Linear`
//! — computes one affine map `y = W x + b`, so it can be replaced by a single layer. This crate finds `W`
//! and `b` **analytically**: each layer is lowered to its matrix (a convolution to its Toeplitz matrix),
//! and the matrices are multiplied from the last layer backward with a parallel GEMM. An independent,
//! naive reference (a direct forward pass and the probing method on top of it) checks the result.
//!
//! ```
//! use linear_collapse::{collapse, verify, layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear}, Options, Shape};
//! use ndarray::{Array1, Array2, Array4};
//!
//! // Conv2d(2 -> 4, k3, stride 2) -> Flatten -> Linear(36 -> 10), on a 2x13x13 input
//! let conv = Conv2d::new(
//!     Array4::from_shape_fn((4, 2, 3, 3), |(o, c, y, x)| (o + 2 * c + y) as f32 * 0.01 - x as f32 * 0.02),
//!     Some(Array1::from_elem(4, 0.1)),
//!     Conv2dConfig::default().stride(2),
//! )?;
//! let fc = Linear::new(Array2::from_shape_fn((10, 144), |(i, j)| ((i * j) % 7) as f32 * 0.1), None)?;
//! let chain: Vec<Layer<f32>> = vec![conv.into(), Flatten.into(), fc.into()];
//!
//! let collapsed = collapse(&chain, Shape::chw(2, 13, 13), &Options::default())?;
//! assert_eq!(collapsed.weight().dim(), (10, 338));
//!
//! let report = verify::verify(&collapsed, &chain, Shape::chw(2, 13, 13), &Default::default())?;
//! assert!(report.weight_vs_probe.rel_fro < 1e-6);
//! # Ok::<(), linear_collapse::Error>(())
//! ```
//!
//! ## Vocabulary
//!
//! One word per idea, used the same way in every module and doc:
//!
//! - **collapse**: the user's verb. A chain collapses to one layer ([`collapse`]); a model collapses run by
//!   run ([`collapse_model`]); a file collapses ([`pipeline::collapse_onnx`]).
//! - **lower**: one layer to its matrix ([`lower`]; a convolution's matrix is its *Toeplitz* matrix).
//! - **compose**: multiplying lowered maps, `(A2, a2) o (A1, a1) = (A2 A1, A2 a1 + a2)` ([`compose`]).
//! - **im2col**: only the reverse-mode kernel that multiplies a dense matrix by a convolution without
//!   building its Toeplitz matrix; **col2im** its adjoint scatter (the transposed convolution).
//! - **fold**: a BatchNorm, zero pad or average pool absorbed into a convolution ([`form`]).
//! - **form**: what a linear run becomes (one conv, a Linear, a low-rank pair, or the run as it was).
//! - **forward**, one name per meaning: [`reference::forward`] (the independent naive pass over a chain),
//!   [`verify::forward_model`] (the same over a model graph), [`compose::forward_batch`] (the fast batched
//!   pass that the benchmarks' probing baseline uses).
//!
//! ## Modules, lowest first
//!
//! Imports go one way (`scripts/check_imports.py` checks it): [`Shape`], [`Scalar`], [`Par`] and [`Error`]
//! at the bottom; [`layer`] (the layers, plain data); [`matrix`] (dense, CSR, the parallel GEMM);
//! [`infer`] (chain shapes) and [`reference`](mod@reference) (the
//! independent oracle, which may import only `layer` and the basic types); [`cost`] (what layers cost,
//! from their shapes), [`graph`] (model graphs, their shapes, linear groups and runs) and [`lower`];
//! [`compose`] (the planner and kernels), [`verify`] (error reports), [`io`] (files only: ONNX,
//! safetensors, `.npy`, chain specs); [`form`] (the smallest exact form of each piece of a linear group,
//! never costlier by default); [`pipeline`] (file to file, for the command line and the Python bindings). `draw` draws
//! the chapters' pictures (feature `draw`); the benchmark fixtures live behind the `bench` feature.
//! `docs/architecture.md` in the repository draws the same picture with the data flow.
//!
//! ## Guide
//!
//! Six chapters in the crate's `docs/` directory (paths relative to the repository root) teach the method
//! from scratch; their code runs as doc-tests:
//!
//! 1. [Affine maps compose](docs/01-affine-maps-compose.md)
//! 2. [The Toeplitz matrix, by hand](docs/02-toeplitz-by-hand.md)
//! 3. [Probing, and the analytic way](docs/03-probing-and-the-analytic-way.md)
//! 4. [When two convs are one](docs/04-when-two-convs-are-one.md)
//! 5. [Accuracy](docs/05-accuracy.md)
//! 6. [Collapsing a real model](docs/06-collapsing-a-real-model.md)
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "bench")]
pub mod baseline;
pub mod compose;
pub mod cost;
#[cfg(feature = "draw")]
pub mod draw;
mod error;
pub mod form;
pub mod graph;
pub mod infer;
pub mod io;
pub mod layer;
pub mod lower;
pub mod matrix;
pub mod memory;
mod options;
mod par;
pub mod pipeline;
pub mod reference;
mod rng;
mod scalar;
mod shape;
#[cfg(feature = "bench")]
pub mod sizes;
pub mod verify;

pub use compose::collapse;
pub use error::{Error, Result};
pub use form::collapse_model;
pub use layer::Layer;
pub use options::{Accumulate, Method, Options, Policy};
pub use par::Par;
pub use scalar::Scalar;
pub use shape::{Dims, Shape, MAX_RANK};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/01-affine-maps-compose.md")]
struct Guide01;

#[cfg(doctest)]
#[doc = include_str!("../docs/02-toeplitz-by-hand.md")]
struct Guide02;

#[cfg(doctest)]
#[doc = include_str!("../docs/03-probing-and-the-analytic-way.md")]
struct Guide03;

#[cfg(doctest)]
#[doc = include_str!("../docs/04-when-two-convs-are-one.md")]
struct Guide04;

#[cfg(doctest)]
#[doc = include_str!("../docs/05-accuracy.md")]
struct Guide05;

#[cfg(doctest)]
#[doc = include_str!("../docs/06-collapsing-a-real-model.md")]
struct Guide06;

#[cfg(doctest)]
#[doc = include_str!("../docs/07-transposed-and-circular.md")]
struct Guide07;

#[cfg(doctest)]
#[doc = include_str!("../docs/08-structural-reparameterization.md")]
struct Guide08;

#[cfg(doctest)]
#[doc = include_str!("../docs/09-a-real-model-end-to-end.md")]
struct Guide09;

#[cfg(doctest)]
#[doc = include_str!("../docs/conventions.md")]
struct Conventions;
