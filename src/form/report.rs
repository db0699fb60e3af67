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
    /// What each node computes, short (`Conv2d(3->8, k3x3)`, `Add`, ...).
    pub ops: Vec<String>,
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

/// A model's size before and after: nodes, parameters, multiply-adds per sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Nodes (for a file: its nodes; for a model: its graph nodes).
    pub nodes: (usize, usize),
    /// Parameters (for a file: the elements of its float initializers).
    pub params: (usize, usize),
    /// Multiply-adds per sample of the linear layers.
    pub macs: (u64, u64),
}

/// `n` with thousands separators: `1,234,567`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `before -> after`, with separators.
fn change(before: u64, after: u64) -> String {
    if before == after {
        grouped(before)
    } else {
        format!("{} -> {}", grouped(before), grouped(after))
    }
}

/// The op types of a run, counted: `Conv2d x2, BatchNorm, Add`.
fn op_kinds(ops: &[String]) -> String {
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for op in ops {
        let kind = op.split(['(', '[']).next().unwrap_or(op).to_string();
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    kinds
        .iter()
        .map(|(k, n)| {
            if *n > 1 {
                format!("{k} x{n}")
            } else {
                k.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first and last names of a run, shortened.
fn span(nodes: &[String]) -> String {
    let short = |s: &str| {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() > 32 {
            format!(
                "...{}",
                chars[chars.len() - 29..].iter().collect::<String>()
            )
        } else {
            s.to_string()
        }
    };
    match nodes {
        [] => String::new(),
        [one] => short(one),
        [first, .., last] => format!("{} .. {} ({})", short(first), short(last), nodes.len()),
    }
}

/// The reports as a table a person reads (run, op types in, form out, parameters and multiply-adds before
/// and after, why), then the model's totals.
///
/// ```
/// use linear_collapse::form::{table, Form, RunReport, Totals};
/// use linear_collapse::Shape;
/// let r = RunReport {
///     nodes: vec!["conv".into(), "bn".into()],
///     ops: vec!["Conv2d(3->8, k3x3)".into(), "BatchNorm(8)".into()],
///     shapes: (Shape::chw(3, 8, 8), Shape::chw(8, 8, 8)),
///     form: Form::Conv2d,
///     why: "the run is one convolution".into(),
///     params: (240, 224),
///     macs: (14336, 13824),
///     max_error: Some(1e-7),
/// };
/// let t = Totals { nodes: (2, 1), params: (240, 224), macs: (14336, 13824) };
/// let text = table(&[r], &t);
/// assert!(text.contains("Conv2d, BatchNorm") && text.contains("14,336 -> 13,824"));
/// ```
pub fn table(reports: &[RunReport], totals: &Totals) -> String {
    let rows: Vec<[String; 6]> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            [
                format!("{}", i + 1),
                span(&r.nodes),
                op_kinds(&r.ops),
                r.form.to_string(),
                change(r.params.0 as u64, r.params.1 as u64),
                change(r.macs.0, r.macs.1),
            ]
        })
        .collect();
    let head = [
        "run",
        "nodes",
        "ops in",
        "form out",
        "parameters",
        "multiply-adds",
    ];
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([head[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&head.map(String::from));
    out.push('\n');
    for (row, r) in rows.iter().zip(reports) {
        out.push_str(&line(row));
        out.push('\n');
        out.push_str(&format!(
            "{:w$}  why: {}; max error {}\n",
            "",
            r.why,
            r.max_error_text(),
            w = widths[0]
        ));
    }
    let replaced = reports.iter().filter(|r| r.form != Form::Unchanged).count();
    out.push_str(&format!(
        "total: {replaced} of {} runs replaced; nodes {}, parameters {}, multiply-adds {}\n",
        reports.len(),
        change(totals.nodes.0 as u64, totals.nodes.1 as u64),
        change(totals.params.0 as u64, totals.params.1 as u64),
        change(totals.macs.0, totals.macs.1),
    ));
    out
}
