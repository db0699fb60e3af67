//! # linear-collapse
//!
//! A chain of layers with no nonlinearity between them — `Conv2d -> Flatten -> Linear`, `Linear -> Linear`
//! — computes one affine map `y = W x + b`, so it can be replaced by a single layer. This crate finds `W`
//! and `b` **analytically**: each layer is lowered to its matrix (a convolution to its Toeplitz matrix),
//! and the matrices are multiplied from the last layer backward with a parallel GEMM. An independent,
//! naive reference (a direct forward pass and the probing method on top of it) checks the result.
//!
//! ```
//! use linear_collapse::{collapse, verify, layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear}, Shape};
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
//! let collapsed = collapse(&chain, Shape::chw(2, 13, 13))?;
//! assert_eq!(collapsed.weight().dim(), (10, 338));
//!
//! let report = verify::verify(&collapsed, &chain, Shape::chw(2, 13, 13), &Default::default())?;
//! assert!(report.weight_vs_probe.rel_fro < 1e-6);
//! # Ok::<(), linear_collapse::Error>(())
//! ```
//!
//! Modules: [`layer`] (the layers), [`infer`] (shapes), [`lower`] (Toeplitz and other lowered matrices),
//! [`matrix`] (dense, CSR, parallel GEMM), [`compose`] (the collapse and its planner), [`model`] (graphs
//! split at nonlinearities, each run collapsed into its smallest exact form), [`reference`](mod@reference)
//! (direct forward pass and probe), [`verify`] (error reports), [`io`] (safetensors, `.npy`, ONNX, chain
//! specs), [`baseline`] (fast probing, for benchmarks), [`sizes`] (the benchmark cases), `draw` (the
//! chapters' pictures, feature `draw`).
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
#![doc(test(attr(deny(warnings))))]

pub mod baseline;
pub mod compose;
#[cfg(feature = "draw")]
pub mod draw;
mod error;
mod fold;
pub mod infer;
pub mod io;
pub mod layer;
pub mod lower;
pub mod matrix;
pub mod memory;
pub mod model;
mod par;
pub mod reference;
mod rng;
mod scalar;
mod shape;
pub mod sizes;
pub mod verify;

pub use compose::{collapse, collapse_with, Accumulate, Method, Options};
pub use error::{Error, Result};
pub use layer::Layer;
pub use par::Par;
pub use scalar::Scalar;
pub use shape::Shape;

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
