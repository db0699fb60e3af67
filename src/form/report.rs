//! What became of each run: its [`Form`] and a [`RunReport`] for people.

use std::fmt;

use crate::Shape;

/// What a run became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// Left as it was (collapsing would not make it smaller, or it cannot collapse).
    Unchanged,
    /// One convolution.
    Conv2d,
    /// One dense Linear.
    Linear,
    /// Two Linears through the exact rank `r`.
    LowRank(usize),
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Form::Unchanged => f.write_str("unchanged"),
            Form::Conv2d => f.write_str("Conv2d"),
            Form::Linear => f.write_str("Linear"),
            Form::LowRank(r) => write!(f, "Linear x2 (rank {r})"),
        }
    }
}

/// One run of [`collapse_model`](crate::collapse_model)'s result.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// Names of the nodes in the run.
    pub nodes: Vec<String>,
    /// Input and output shapes of the run.
    pub shapes: (Shape, Shape),
    /// What it became.
    pub form: Form,
    /// Why this form (and not a smaller one), in one sentence.
    pub why: String,
    /// Parameters before and after.
    pub params: (usize, usize),
    /// Multiply-adds per sample before and after.
    pub macs: (u64, u64),
    /// Largest absolute difference between the new and the original run on random inputs (reference
    /// forward passes in `f64`); `None` when the form was planned but not built (`inspect`).
    pub max_error: Option<f64>,
}

impl RunReport {
    /// The checked error as text: `1.23e-7`, or `not checked` when the form was only planned.
    pub fn max_error_text(&self) -> String {
        self.max_error
            .map_or_else(|| "not checked".into(), |e| format!("{e:.2e}"))
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} -> {}: {} ({}); params {} -> {}, MACs {} -> {}, max error {}",
            self.nodes.join(", "),
            self.shapes.0,
            self.shapes.1,
            self.form,
            self.why,
            self.params.0,
            self.params.1,
            self.macs.0,
            self.macs.1,
            self.max_error_text()
        )
    }
}
