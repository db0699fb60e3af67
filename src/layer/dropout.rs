//! `Dropout`: in eval mode, the identity.

use crate::{Error, Result};

/// Dropout with probability `p` (PyTorch's `nn.Dropout`, any shape). Collapsing is inference, so this is
/// the layer in `eval()` mode: the identity (PyTorch scales by `1/(1-p)` only while training).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f64,
}

impl Dropout {
    /// Dropout with probability `p`.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] unless `0 <= p <= 1` (PyTorch's limit).
    ///
    /// ```
    /// use linear_collapse::layer::Dropout;
    /// assert_eq!(Dropout::new(0.5)?.p(), 0.5);
    /// assert!(Dropout::new(1.5).is_err());
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn new(p: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                format!("Dropout(p {p})"),
                "the probability p must be between 0 and 1",
            ));
        }
        Ok(Dropout { p })
    }

    /// The drop probability (unused in eval mode).
    ///
    /// ```
    /// use linear_collapse::layer::Dropout;
    /// assert_eq!(Dropout::new(0.1)?.p(), 0.1);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Short description, e.g. `Dropout(p 0.5)`.
    ///
    /// ```
    /// use linear_collapse::layer::Dropout;
    /// assert_eq!(Dropout::new(0.5)?.describe(), "Dropout(p 0.5)");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        format!("Dropout(p {})", self.p)
    }
}
