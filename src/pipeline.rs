//! The whole job, file to file: read -> graph -> linear runs -> forms -> write. The command line and the
//! Python bindings call these; [`crate::io`] only reads and writes, [`crate::form`] only decides.
//!
//! ```
//! use linear_collapse::io::onnx::OnnxModel;
//! use linear_collapse::{pipeline, Options};
//!
//! let original = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conv_bn_fc/model.onnx"))?;
//! let planned = pipeline::inspect_onnx(&original, &Options::default())?; // nothing built
//! let (collapsed, summary) = pipeline::collapse_onnx(original, &Options::default(), &mut |_, _| {})?;
//! // Conv -> BatchNorm -> Flatten -> Gemm is one Gemm with fewer multiply-adds and parameters
//! assert_eq!(collapsed.op_types(), ["Flatten", "Gemm"]);
//! assert_eq!(planned.runs[0].form, summary.runs[0].form);
//! assert!(summary.runs[0].max_error.unwrap() < 1e-5 && planned.runs[0].max_error.is_none());
//! assert_eq!(summary.totals.nodes, (4, 2));
//! # Ok::<(), linear_collapse::Error>(())
//! ```

use std::path::Path;

use std::collections::BTreeSet;
use std::time::Instant;

use crate::form::{
    admissible, collapse_runs, model_cost, table, Form, Mode, Replacement, RunReport, Totals,
};
use crate::graph::{Model, Src};
use crate::io::onnx::OnnxModel;
use crate::io::onnx_graph::{
    freed_params, gone, import, opset, rewrite, Imported, RunEdit, MIN_WRITE_OPSET,
};
use crate::io::{npy, safetensors, spec};
use crate::layer::{Layer, Linear};
use crate::{collapse, Error, Options, Policy, Result, Shape};

/// What happened to a model: one report per run (replaced pieces, and groups kept with the reason), the
/// model's totals before and after, and how long each stage took.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The runs.
    pub runs: Vec<RunReport>,
    /// Nodes, parameters and multiply-adds before and after.
    pub totals: Totals,
    /// Seconds spent importing (analysis and mapping), planning and building the forms, and rewriting the
    /// graph (zero for a plan only).
    pub seconds: Seconds,
}

/// Seconds per stage of a collapse.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Seconds {
    /// Folding constants, computing every shape, mapping the nodes.
    pub import: f64,
    /// Planning every piece, building and checking the chosen forms.
    pub collapse: f64,
    /// Writing the forms back into the graph.
    pub rewrite: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&table(&self.runs, &self.totals))?;
        let s = self.seconds;
        writeln!(
            f,
            "seconds: import {:.3}, collapse {:.3}, rewrite {:.3}",
            s.import, s.collapse, s.rewrite
        )
    }
}

/// Collapses the linear parts of an ONNX model (as [`crate::collapse_model`] does, under `opts.policy`)
/// and writes the forms back in place; returns the new model and its [`Summary`]. `progress(done, total)`
/// is called as the linear groups are planned and built.
///
/// # Errors
/// As [`import`] and [`crate::collapse_model`]; [`Error::Unsupported`] when a form has no ONNX spelling.
pub fn collapse_onnx(
    m: OnnxModel,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(OnnxModel, Summary)> {
    let Planned {
        mut imported,
        runs,
        seconds,
        ..
    } = plan(&m, opts, Mode::Build, &|_| true, progress)?;
    let macs = model_cost(&imported.model)?.1;
    // the model's weights are not needed past here: let them go before the file is rewritten
    imported.model = Model::new(imported.model.input_shape());
    let before = (m.node_count(), m.param_count());
    let edits: Vec<RunEdit<'_>> = runs
        .iter()
        .filter_map(|r| {
            Some(RunEdit {
                nodes: &r.run.nodes,
                entry: r.run.entry,
                input: r.report.shapes.0,
                exit: r.run.exit,
                ops: r.ops.as_deref()?,
            })
        })
        .collect();
    let clock = Instant::now();
    let out = rewrite(m, &imported, &edits)?;
    let seconds = Seconds {
        rewrite: clock.elapsed().as_secs_f64(),
        ..seconds
    };
    let totals = totals(
        macs,
        &runs,
        (before.0, out.node_count()),
        (before.1, out.param_count()),
    );
    let runs = runs.into_iter().map(|r| r.report).collect();
    Ok((
        out,
        Summary {
            runs,
            totals,
            seconds,
        },
    ))
}

/// Plans the linear parts of an ONNX model without building any dense form or checking one: the summary
/// says what [`collapse_onnx`] would choose, with parameters and multiply-adds from the shapes (a low-rank
/// pair is planned at the rank bound of its narrowest value; the exact rank needs the collapse), and the
/// node count after as planned.
///
/// # Errors
/// As [`import`].
pub fn inspect_onnx(m: &OnnxModel, opts: &Options) -> Result<Summary> {
    edits_onnx(m, opts, &|_| true, false).map(|(_, summary)| summary)
}

/// One replaced piece of an ONNX model, by the names of its nodes and values: what a front-end that keeps
/// its own graph (the PyTorch one of the Python package) needs to rewrite that graph itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    /// Its report: an index into [`Summary::runs`].
    pub run: usize,
    /// The ONNX nodes that go (an ONNX node that became several model nodes goes only when all of them
    /// are replaced).
    pub nodes: Vec<String>,
    /// The value the piece reads.
    pub entry: String,
    /// The value it writes; the replacement writes it instead.
    pub exit: String,
    /// The per-sample shape of `entry`.
    pub input: Shape,
    /// The replacement, applied in order to `entry`: `Conv2d`, `Linear`, `Flatten` and `Reshape` layers
    /// (empty when only planned).
    pub ops: Vec<crate::graph::Op<f32>>,
}

/// Plans the linear parts of an ONNX model as [`inspect_onnx`] does, cutting pieces only at values
/// `cuttable` accepts (a front-end whose nodes became several ONNX nodes accepts only its own values),
/// and with `build` builds and checks each chosen form as [`collapse_onnx`] does; returns the replaced
/// pieces as [`Edit`]s without writing anything, and the summary (nodes and parameters after as planned).
///
/// # Errors
/// As [`import`].
///
/// ```
/// use linear_collapse::io::onnx::OnnxModel;
/// use linear_collapse::{pipeline, Options};
///
/// let m = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conv_bn_fc/model.onnx"))?;
/// let (edits, summary) = pipeline::edits_onnx(&m, &Options::default(), &|_| true, true)?;
/// assert_eq!(edits.len(), 1);
/// assert_eq!(edits[0].ops.len(), 2); // Flatten, Linear
/// assert_eq!(summary.runs[edits[0].run].nodes.len(), edits[0].nodes.len());
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn edits_onnx(
    m: &OnnxModel,
    opts: &Options,
    cuttable: &dyn Fn(&str) -> bool,
    build: bool,
) -> Result<(Vec<Edit>, Summary)> {
    let mode = if build { Mode::Build } else { Mode::Plan };
    let Planned {
        imported,
        mut runs,
        freed,
        seconds,
    } = plan(m, opts, mode, cuttable, &mut |_, _| {})?;
    // each planned piece removes its ONNX nodes and the parameters it frees, and adds its form's
    let mut nodes_after = m.node_count();
    let mut params_after = m.param_count();
    let replaced = runs.iter().filter(|r| r.report.form != Form::Unchanged);
    for (r, freed) in replaced.zip(freed) {
        let onnx = onnx_nodes(&imported, r);
        let (input, output) = r.report.shapes;
        let reshapes = usize::from(!matches!(input, Shape::Flat(_)))
            + usize::from(!matches!(output, Shape::Flat(_)));
        let added = match r.report.form {
            Form::Conv2d => 1,
            Form::Linear => 1 + reshapes,
            Form::LowRank(_) => 2 + reshapes,
            Form::Unchanged => 0,
        };
        nodes_after = nodes_after.saturating_sub(onnx.len()) + added;
        params_after = (params_after + r.report.params.1).saturating_sub(freed);
    }
    let macs = model_cost(&imported.model)?.1;
    let totals = totals(
        macs,
        &runs,
        (m.node_count(), nodes_after),
        (m.param_count(), params_after),
    );
    let replaced: BTreeSet<usize> = runs
        .iter()
        .filter(|r| r.report.form != Form::Unchanged)
        .flat_map(|r| r.run.nodes.iter().copied())
        .collect();
    let gone = gone(&imported, &replaced);
    let names = &m
        .proto()
        .graph
        .as_ref()
        .expect("import checked the graph")
        .node;
    let mut edits = Vec::new();
    for (k, r) in runs.iter_mut().enumerate() {
        if r.report.form == Form::Unchanged {
            continue;
        }
        let (entry, exit) = imported.writable(&r.run.nodes, r.run.entry, r.run.exit)?;
        edits.push(Edit {
            run: k,
            nodes: onnx_nodes(&imported, r)
                .into_iter()
                .filter(|k| gone.contains(k))
                .map(|k| names[k].name.clone())
                .collect(),
            entry,
            exit,
            input: r.report.shapes.0,
            ops: r.ops.take().unwrap_or_default(),
        });
    }
    let summary = Summary {
        runs: runs.into_iter().map(|r| r.report).collect(),
        totals,
        seconds,
    };
    Ok((edits, summary))
}

/// A model imported and its linear groups planned (and in [`Mode::Build`] built), before anything is
/// written.
struct Planned {
    imported: Imported,
    runs: Vec<Replacement<f32>>,
    /// The parameters each replaced piece frees, in order.
    freed: Vec<usize>,
    /// Import and collapse times (rewrite 0).
    seconds: Seconds,
}

/// The steps every ONNX entry point shares: import, plan (cutting pieces only at values `cuttable`
/// accepts), keep what an old opset cannot spell, and settle shared weights.
fn plan(
    m: &OnnxModel,
    opts: &Options,
    mode: Mode,
    cuttable: &dyn Fn(&str) -> bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Planned> {
    let clock = Instant::now();
    let imported = import(m, opts)?;
    let import = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let named = |s: Src| match s {
        Src::Input => cuttable(&imported.input),
        Src::Node(j) => imported.values[j].as_deref().is_some_and(cuttable),
    };
    let mut runs = collapse_runs(&imported.model, opts, mode, &named, progress)?;
    keep_all_before(opset(m.proto())?, &mut runs);
    let freed = settle_shared(m, &imported, &mut runs, opts);
    let seconds = Seconds {
        import,
        collapse: clock.elapsed().as_secs_f64(),
        rewrite: 0.0,
    };
    Ok(Planned {
        imported,
        runs,
        freed,
        seconds,
    })
}

/// Keeps every replaced piece that would not pay for itself in the file: a weight the piece shares with
/// nodes left in place stays, so the piece is admissible under `opts.policy` only with the parameters its
/// removal frees (see [`freed_params`]). Repeats until every piece left pays (keeping one can make a
/// shared weight stay for the others). Returns the parameters each replaced piece frees, in order.
fn settle_shared<T>(
    m: &OnnxModel,
    imported: &Imported,
    runs: &mut [Replacement<T>],
    opts: &Options,
) -> Vec<usize> {
    loop {
        let replaced: Vec<usize> = (0..runs.len())
            .filter(|&i| runs[i].report.form != Form::Unchanged)
            .collect();
        let pieces: Vec<(BTreeSet<usize>, &str)> = replaced
            .iter()
            .map(|&i| {
                (
                    onnx_nodes(imported, &runs[i]),
                    entry_name(imported, &runs[i]),
                )
            })
            .collect();
        let freed = freed_params(m, &pieces);
        if opts.policy == Policy::Force {
            return freed;
        }
        let mut settled = true;
        for (&i, &free) in replaced.iter().zip(&freed) {
            let r = &mut runs[i].report;
            let before = (r.params.0.min(free), r.macs.0);
            if free < r.params.0 && !admissible(opts.policy, (r.params.1, r.macs.1), before) {
                let why = format!(
                    "kept as it is: {} would write {} parameters where removing the run frees {} \
                     (it shares weights with nodes that stay)",
                    r.form, r.params.1, free
                );
                keep(&mut runs[i], why);
                settled = false;
            }
        }
        if settled {
            return freed;
        }
    }
}

/// Keeps every run of a model whose operator set is older than the ops the rewrite writes.
fn keep_all_before<T>(opset: i64, runs: &mut [Replacement<T>]) {
    if opset >= MIN_WRITE_OPSET {
        return;
    }
    for run in runs.iter_mut().filter(|r| r.report.form != Form::Unchanged) {
        let why = format!(
            "kept as it is: the model imports ai.onnx version {opset}, and {} is written with ops \
             of version {MIN_WRITE_OPSET} or later",
            run.report.form
        );
        keep(run, why);
    }
}

/// Takes back a replacement: the run stays as it is, for `why`.
fn keep<T>(run: &mut Replacement<T>, why: String) {
    let r = &mut run.report;
    r.why = why;
    r.form = Form::Unchanged;
    r.params.1 = r.params.0;
    r.macs.1 = r.macs.0;
    r.max_error = None;
    run.ops = None;
}

/// The name of the value a piece reads.
fn entry_name<'a, T>(imported: &'a Imported, r: &Replacement<T>) -> &'a str {
    match r.run.entry {
        Src::Input => &imported.input,
        Src::Node(j) => imported.values[j].as_deref().unwrap_or_default(),
    }
}

/// The ONNX nodes a piece of the imported model came from.
fn onnx_nodes<T>(imported: &Imported, r: &Replacement<T>) -> BTreeSet<usize> {
    r.run
        .nodes
        .iter()
        .flat_map(|&k| imported.onnx_nodes[k].iter().copied())
        .collect()
}

/// The totals of a collapse: nodes and parameters of the files, multiply-adds of the linear layers
/// (`before` of the original).
fn totals(
    before: u64,
    runs: &[Replacement<f32>],
    nodes: (usize, usize),
    params: (usize, usize),
) -> Totals {
    let saved: u64 = runs
        .iter()
        .filter(|r| r.report.form != Form::Unchanged)
        .map(|r| r.report.macs.0.saturating_sub(r.report.macs.1))
        .sum();
    let added: u64 = runs
        .iter()
        .filter(|r| r.report.form != Form::Unchanged)
        .map(|r| r.report.macs.1.saturating_sub(r.report.macs.0))
        .sum();
    Totals {
        nodes,
        params,
        macs: (before, before.saturating_sub(saved).saturating_add(added)),
    }
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
