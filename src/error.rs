//! The crate's error type: one structured enum, so callers can match on what went wrong.

use std::path::PathBuf;

use crate::shape::Shape;

/// Everything that can go wrong when building layers, inferring shapes, lowering, composing or reading files.
///
/// Every variant names the layer (or file, or tensor) at fault and the reason, so a message printed as it is
/// tells the user what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layer of a chain cannot take the shape that reaches it.
    #[error("layer #{layer} ({name}): expects input {expected}, got {got}: {reason}")]
    Shape {
        /// Index of the layer in its chain (0-based).
        layer: usize,
        /// Short description of the layer, e.g. `Conv2d(5->50, k5x5, s2)`.
        name: String,
        /// What the layer accepts, e.g. `(5, H, W)`.
        expected: String,
        /// The shape that reached it.
        got: Shape,
        /// Why the two do not fit.
        reason: String,
    },
    /// A layer's own parameters are inconsistent (zero stride, groups not dividing channels, NaN weights, ...).
    #[error("{layer}: {reason}")]
    InvalidLayer {
        /// Description of the layer (with its index when it is part of a chain).
        layer: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operation the library cannot express as a linear layer.
    #[error("unsupported op {op_type}: {detail}")]
    Unsupported {
        /// Name of the operation.
        op_type: String,
        /// Why it is not supported.
        detail: String,
    },
    /// A computation would need more memory than the budget allows; nothing was allocated.
    #[error("{what} needs {needed} bytes but the memory budget is {budget} bytes{hint}")]
    TooLarge {
        /// What would have been allocated.
        what: String,
        /// Bytes it needs.
        needed: u64,
        /// The budget in force.
        budget: u64,
        /// A suggestion (a method that fits), starting with "; " when present.
        hint: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file or tensor is malformed: truncated, wrong dtype, wrong shape, missing tensor.
    #[error("{context}: {source}")]
    Format {
        /// Which file or tensor.
        context: String,
        /// The underlying parser's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidLayer`] from anything printable.
    pub(crate) fn invalid(layer: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidLayer {
            layer: layer.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Format`] carrying a plain message.
    pub(crate) fn format(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Format {
            context: context.into(),
            source: message.into().into(),
        }
    }
}
