//! `Identity`: `y = x`, any shape (PyTorch's `nn.Identity`).

/// The identity map; it lowers to the identity matrix and drops out of a collapse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;
