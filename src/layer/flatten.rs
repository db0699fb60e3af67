//! `Flatten`: `(C, H, W)` or `(C, L)` to `(C*H*W,)`; the identity on the flat index.

/// Flattens a sample to a vector in C order (PyTorch `nn.Flatten()` on a batch, i.e. `start_dim=1`).
///
/// It lowers to the identity matrix: the flat index convention of [`crate::Shape`] is already C order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;
