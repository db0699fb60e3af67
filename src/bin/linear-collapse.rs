//! `linear-collapse`: collapse every linear run of an ONNX model (or a safetensors chain) into one layer.
//!
//! Exit status: 0 success, 1 a verification beyond tolerance, 2 bad input (one line on stderr, nothing
//! written).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use linear_collapse::graph::Model;
use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::io::onnx_graph;
use linear_collapse::verify::forward_model;
use linear_collapse::{pipeline, Accumulate, Error, Method, Options, Policy};

#[derive(Parser)]
#[command(
    version,
    about = "Collapse chains of linear layers into one exact layer, analytically"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Collapse IN.onnx into OUT.onnx, or a safetensors chain (--weights, --spec) into OUT.safetensors.
    Collapse {
        /// The ONNX model (omit with --weights/--spec).
        input: Option<PathBuf>,
        /// Where to write the result.
        #[arg(short, long)]
        output: PathBuf,
        /// A PyTorch state_dict in safetensors (with --spec).
        #[arg(long, requires = "spec")]
        weights: Option<PathBuf>,
        /// The JSON description of the module chain (with --weights).
        #[arg(long, requires = "weights")]
        spec: Option<PathBuf>,
        /// Check the result against the original on random inputs before writing.
        #[arg(long)]
        verify: bool,
        #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
        method: MethodArg,
        #[arg(long, value_enum, default_value_t = AccArg::F32)]
        accumulate: AccArg,
        /// What a replaced piece must not cost more of: multiply-adds per sample (the default) or
        /// parameters (the smaller file).
        #[arg(long, value_enum, default_value_t = ObjectiveArg::Macs)]
        objective: ObjectiveArg,
        /// Replace every run that reads one value and gives one by its smallest single form, even when
        /// that costs more.
        #[arg(long)]
        force: bool,
    },
    /// List the linear runs of an ONNX model: layers, collapsed form and why, parameters and MACs.
    Inspect {
        /// The ONNX model.
        input: PathBuf,
        /// Print every value's dims as the importer computes them (JSON lines) instead of the runs.
        #[arg(long)]
        shapes: bool,
    },
    /// Compare two ONNX models with the library's reference forward pass on random inputs.
    Verify {
        original: PathBuf,
        collapsed: PathBuf,
        /// Random inputs, uniform in [-1, 1).
        #[arg(long, default_value_t = 8)]
        samples: usize,
        #[arg(long, default_value_t = 1e-4)]
        rtol: f64,
        #[arg(long, default_value_t = 1e-5)]
        atol: f64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    Auto,
    Dense,
    Sparse,
    Im2col,
}

#[derive(Clone, Copy, ValueEnum)]
enum ObjectiveArg {
    Macs,
    Params,
}

#[derive(Clone, Copy, ValueEnum)]
enum AccArg {
    F32,
    F64,
}

/// A failed check (exit 1), as opposed to bad input (exit 2).
#[derive(Debug)]
struct Mismatch(String);
impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Mismatch {}

/// `print!` that returns the write's error instead of panicking (a closed pipe, as in `| head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// `println!` that returns the write's error instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // the reader went away (`| head`): nothing more to say
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) if e.downcast_ref::<Mismatch>().is_some() => {
            eprintln!("verification failed: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each said once (the library's errors already print their source).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Collapse {
            input,
            output,
            weights,
            spec,
            verify,
            method,
            accumulate,
            objective,
            force,
        } => {
            let opts = Options {
                method: match method {
                    MethodArg::Auto => Method::Auto,
                    MethodArg::Dense => Method::Dense,
                    MethodArg::Sparse => Method::Sparse,
                    MethodArg::Im2col => Method::Im2col,
                },
                accumulate: match accumulate {
                    AccArg::F32 => Accumulate::Native,
                    AccArg::F64 => Accumulate::F64,
                },
                policy: match (force, objective) {
                    (true, _) => Policy::Force,
                    (false, ObjectiveArg::Macs) => Policy::Macs,
                    (false, ObjectiveArg::Params) => Policy::Params,
                },
                ..Options::default()
            };
            match (input, weights, spec) {
                (Some(path), None, None) => collapse_onnx(&path, &output, &opts, verify),
                (None, Some(w), Some(s)) => collapse_safetensors(&w, &s, &output, &opts, verify),
                _ => bail!("give either IN.onnx, or --weights W.safetensors --spec chain.json"),
            }
        }
        Cmd::Inspect {
            input,
            shapes: true,
        } => {
            let m = OnnxModel::read(&input)?;
            for v in onnx_graph::value_shapes(&m)? {
                let dims = v.dims.map_or("null".into(), |d| format!("{d:?}"));
                outln!(
                    "{{\"name\": {:?}, \"dims\": {dims}, \"constant\": {}, \"batched\": {}}}",
                    v.name,
                    v.constant,
                    v.batched
                );
            }
            Ok(())
        }
        Cmd::Inspect { input, .. } => {
            let m = OnnxModel::read(&input)?;
            let summary = pipeline::inspect_onnx(&m, &Options::default())?;
            out!("{summary}");
            Ok(())
        }
        Cmd::Verify {
            original,
            collapsed,
            samples,
            rtol,
            atol,
        } => {
            let a = onnx_graph::import(&OnnxModel::read(&original)?, &Options::default())?.model;
            let b = onnx_graph::import(&OnnxModel::read(&collapsed)?, &Options::default())?.model;
            compare(&a, &b, samples, rtol, atol)
        }
    }
}

/// A bar over the runs, drawn only when stderr is a terminal.
fn progress_bar() -> ProgressBar {
    let pb = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("collapsing {bar:30} {pos}/{len} runs {elapsed}")
    {
        pb.set_style(style);
    }
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

fn collapse_onnx(input: &Path, output: &Path, opts: &Options, verify: bool) -> Result<()> {
    let m = OnnxModel::read(input)?;
    let before = m.node_count();
    // the original is kept only to be compared with
    let original = verify.then(|| onnx_graph::import(&m, opts)).transpose()?;
    let pb = progress_bar();
    let result = pipeline::collapse_onnx(m, opts, &mut |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    });
    pb.finish_and_clear();
    let (out, summary) = result?;
    out!("{summary}");
    if let Some(a) = original {
        let b = onnx_graph::import(&out, opts)?.model;
        compare(&a.model, &b, 8, 1e-4, 1e-5)?;
    }
    out.write(output)?;
    outln!(
        "wrote {} ({before} nodes -> {})",
        output.display(),
        out.node_count()
    );
    Ok(())
}

fn collapse_safetensors(
    weights: &Path,
    spec_path: &Path,
    output: &Path,
    opts: &Options,
    verify: bool,
) -> Result<()> {
    let chain = pipeline::read_chain(weights, spec_path)?;
    let fc = pipeline::collapse_chain(&chain, opts)?;
    if verify {
        let v =
            linear_collapse::verify::verify(&fc, &chain.layers, chain.input, &Default::default())?;
        outln!("{v}");
        let tol = 1e-5 + 1e-4 * v.outputs_vs_forward.ref_max;
        if v.outputs_vs_forward.max_abs > tol {
            return Err(Mismatch(format!(
                "outputs differ by {:.3e} (tolerance {tol:.3e})",
                v.outputs_vs_forward.max_abs
            ))
            .into());
        }
    }
    let stem = pipeline::write_linear(output, &fc)?;
    outln!(
        "wrote {} (nn.Linear({}, {}): weight, bias) and {}.weight.npy, {}.bias.npy",
        output.display(),
        fc.in_features(),
        fc.out_features(),
        stem.display(),
        stem.display()
    );
    Ok(())
}

/// Both models on the same random inputs through the reference forward pass.
fn compare(a: &Model<f32>, b: &Model<f32>, samples: usize, rtol: f64, atol: f64) -> Result<()> {
    let n = a.input_shape().numel();
    if b.input_shape().numel() != n {
        bail!(
            "the models take {} and {} inputs per sample",
            a.input_shape(),
            b.input_shape()
        );
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let (mut max_abs, mut max_rel, mut ok) = (0.0f64, 0.0f64, true);
    for _ in 0..samples {
        let x: Vec<f64> = (0..n).map(|_| next()).collect();
        let (ya, yb) = match (forward_model(a, &x), forward_model(b, &x)) {
            (Ok(ya), Ok(yb)) => (ya, yb),
            // The whole-model pass needs every op; each replaced run was checked on its own already.
            (Err(Error::Unsupported { op_type, .. }), _)
            | (_, Err(Error::Unsupported { op_type, .. })) => {
                outln!(
                    "verify: the whole model holds {op_type}, which the reference does not implement; \
                     each replaced run was checked against the original on its own (max error above)"
                );
                return Ok(());
            }
            (Err(e), _) | (_, Err(e)) => return Err(e.into()),
        };
        if ya.len() != yb.len() {
            bail!(
                "the models give {} and {} outputs per sample",
                ya.len(),
                yb.len()
            );
        }
        for (p, q) in ya.iter().zip(&yb) {
            let d = (p - q).abs();
            max_abs = max_abs.max(d);
            max_rel = max_rel.max(d / p.abs().max(f64::MIN_POSITIVE));
            ok &= d <= atol + rtol * p.abs();
        }
    }
    outln!(
        "verify: {samples} random inputs, max abs error {max_abs:.3e}, max rel error {max_rel:.3e}"
    );
    if !ok {
        return Err(Mismatch(format!("beyond |d| <= {atol:e} + {rtol:e} |ref|")).into());
    }
    Ok(())
}
