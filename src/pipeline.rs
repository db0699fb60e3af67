//! The whole job, file to file: read -> graph -> linear runs -> forms -> write. The command line and the
//! Python bindings call these; [`crate::io`] only reads and writes, [`crate::form`] only decides.
//!
//! ```
//! use linear_collapse::io::onnx::OnnxModel;
//! use linear_collapse::{pipeline, Options};
//!
//! let original = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed_conv_fc/model.onnx"))?;
//! let planned = pipeline::inspect_onnx(&original, &Options::default())?; // nothing built
//! let (collapsed, reports) = pipeline::collapse_onnx(&original, &Options::default())?;
//! assert_eq!((original.node_count(), collapsed.node_count()), (3, 2)); // Conv, Flatten, Gemm -> Flatten, Gemm
//! assert_eq!(planned[0].form, reports[0].form);
//! assert!(reports[0].max_error.unwrap() < 1e-5 && planned[0].max_error.is_none());
//! # Ok::<(), linear_collapse::Error>(())
//! ```

use std::path::Path;

use crate::form::{collapse_runs, Form, Mode, RunReport};
use crate::io::onnx::OnnxModel;
use crate::io::onnx_graph::{import, rewrite, RunEdit};
use crate::io::{npy, safetensors, spec};
use crate::layer::{Layer, Linear};
use crate::{collapse, Error, Options, Result, Shape};

/// Collapses every maximal linear run of an ONNX model (as [`crate::collapse_model`] does, under
/// `opts.policy`) and writes the forms back in place; returns the new model and one report per run.
///
/// # Errors
/// As [`import`] and [`crate::collapse_model`]; [`Error::Unsupported`] when a form has no ONNX spelling.
pub fn collapse_onnx(m: &OnnxModel, opts: &Options) -> Result<(OnnxModel, Vec<RunReport>)> {
    let imported = import(m, opts)?;
    let mut runs = collapse_runs(&imported.model, opts, Mode::Build)?;
    for r in runs.iter_mut().filter(|r| r.ops.is_some()) {
        if let Err(e) = imported.writable(&r.run.nodes, r.run.entry, r.run.exit) {
            r.ops = None;
            r.report.form = Form::Unchanged;
            r.report.why = format!("kept as it is: {e}");
            r.report.params.1 = r.report.params.0;
            r.report.macs.1 = r.report.macs.0;
        }
    }
    let edits: Vec<RunEdit<'_>> = runs
        .iter()
        .filter_map(|r| {
            Some(RunEdit {
                nodes: &r.run.nodes,
                entry: r.run.entry,
                exit: r.run.exit,
                ops: r.ops.as_deref()?,
            })
        })
        .collect();
    let out = rewrite(m, &imported, &edits)?;
    Ok((out, runs.into_iter().map(|r| r.report).collect()))
}

/// Plans every run of an ONNX model without building any dense form or checking one: the reports say
/// what [`collapse_onnx`] would choose, with parameters and multiply-adds from the shapes (a low-rank pair
/// is planned from the rank bound of the inner dimensions; the exact rank needs the collapse).
///
/// # Errors
/// As [`import`].
pub fn inspect_onnx(m: &OnnxModel, opts: &Options) -> Result<Vec<RunReport>> {
    let imported = import(m, opts)?;
    Ok(collapse_runs(&imported.model, opts, Mode::Plan)?
        .into_iter()
        .map(|r| r.report)
        .collect())
}

/// A chain read from a PyTorch `state_dict` in safetensors and a JSON chain spec (see [`spec`]).
#[derive(Clone, Debug)]
pub struct Chain {
    /// The layers, in order.
    pub layers: Vec<Layer<f32>>,
    /// The per-sample input shape.
    pub input: Shape,
}

/// Reads a safetensors file and a chain spec into a [`Chain`].
///
/// # Errors
/// [`Error::Io`] when a file cannot be read; as [`spec::load`] otherwise.
///
/// ```
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed_conv_fc");
/// let chain = linear_collapse::pipeline::read_chain(format!("{dir}/weights.safetensors"), format!("{dir}/chain.json"))?;
/// assert_eq!(chain.layers.len(), 3);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn read_chain(weights: impl AsRef<Path>, spec_path: impl AsRef<Path>) -> Result<Chain> {
    let w = safetensors::Weights::read(weights)?;
    let path = spec_path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (layers, input) = spec::load(&text, &w)?;
    Ok(Chain { layers, input })
}

/// Collapses a chain read by [`read_chain`] into one Linear.
///
/// # Errors
/// As [`crate::collapse`].
pub fn collapse_chain(chain: &Chain, opts: &Options) -> Result<Linear<f32>> {
    collapse(&chain.layers, chain.input, opts)
}

/// Writes a Linear as `weight` and `bias` into `path` (safetensors, loadable by `nn.Linear`'s
/// `load_state_dict`) and as `STEM.weight.npy`, `STEM.bias.npy` beside it; returns the `.npy` stem.
///
/// # Errors
/// [`Error::Io`] when a file cannot be written.
pub fn write_linear(path: &Path, fc: &Linear<f32>) -> Result<std::path::PathBuf> {
    let bias = fc.bias_or_zeros();
    safetensors::write_f32(
        path,
        &[
            ("weight", fc.weight().clone().into_dyn()),
            ("bias", bias.clone().into_dyn()),
        ],
    )?;
    let stem = path.with_extension("");
    npy::write(format!("{}.weight.npy", stem.display()), fc.weight())?;
    npy::write(format!("{}.bias.npy", stem.display()), &bias)?;
    Ok(stem)
}
