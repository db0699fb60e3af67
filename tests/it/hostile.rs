//! The hostile-input suite: malformed ONNX files, chain specs and safetensors files through the binary
//! (`tests/data/hostile/`, made by `scripts/make_hostile.py`; `manifest.json` says what each case mutates
//! and what onnxruntime makes of it).
//!
//! Every command runs under a 4 GiB address-space limit and a 60 s timeout. A refused case must exit 2
//! with exactly one line on stderr that names every culprit of the manifest (`a|b`: either), says nothing
//! twice (`X: X`), shows no wrapped integer and no panic, and must leave no file behind. An accepted case
//! must exit 0, and its output must agree with onnxruntime's outputs of the original (for a chain spec:
//! with the collapsed Linear computed by numpy). Every failing case is listed in one assertion.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::io::onnx_graph::import;
use linear_collapse::io::safetensors::Weights;
use linear_collapse::verify::forward_model;
use linear_collapse::{Error, Options};
use ndarray::ArrayD;
use serde_json::Value;

use crate::common::data_dir;

/// How long one command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The address-space limit of one command, in KiB (`ulimit -v`): 4 GiB.
const ADDRESS_SPACE_KIB: u64 = 4 << 20;

/// One entry of the manifest.
struct Case {
    name: String,
    args: Vec<String>,
    inspect_args: Option<Vec<String>>,
    out_ext: String,
    expect: String,
    inspect_expect: String,
    culprit: Vec<String>,
    forbid: Vec<String>,
    compare: bool,
    spec: bool,
}

/// What one command did.
struct Outcome {
    status: Option<ExitStatus>,
    stderr: String,
    seconds: f64,
}

fn hostile_dir() -> PathBuf {
    data_dir().join("hostile")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn manifest() -> Vec<Case> {
    let path = hostile_dir().join("manifest.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest"))
        .expect("manifest.json is JSON");
    json.as_array()
        .expect("a list of cases")
        .iter()
        .map(|c| Case {
            name: text(c, "name"),
            args: strings(&c["args"]),
            inspect_args: c.get("inspect_args").map(strings),
            out_ext: text(c, "out_ext"),
            expect: text(c, "expect"),
            inspect_expect: text(c, "inspect_expect"),
            culprit: strings(&c["culprit"]),
            forbid: strings(&c["forbid"]),
            compare: c["compare"].as_bool().unwrap_or(false),
            spec: text(c, "kind") == "spec",
        })
        .collect()
}

/// The binary with `args`, under the address-space limit where the platform has `ulimit`.
fn command(args: &[String]) -> Command {
    let bin = env!("CARGO_BIN_EXE_linear-collapse");
    if cfg!(unix) {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                "ulimit -v {ADDRESS_SPACE_KIB} 2>/dev/null; exec \"$0\" \"$@\""
            ))
            .arg(bin)
            .args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

/// Runs `args`, killing the process after [`TIMEOUT`] (then `status` is `None`); stdout and stderr go to
/// files in `logs` so a chatty process cannot block on a full pipe.
fn run(args: &[String], logs: &Path) -> Outcome {
    let (out_log, err_log) = (logs.join("stdout"), logs.join("stderr"));
    let mut child = command(args)
        .stdout(Stdio::from(File::create(&out_log).expect("log file")))
        .stderr(Stdio::from(File::create(&err_log).expect("log file")))
        .spawn()
        .expect("the binary starts");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        status,
        stderr: String::from_utf8_lossy(&std::fs::read(&err_log).unwrap_or_default()).into_owned(),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The signal that ended the process, if one did.
fn signal(status: &ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// A crash, a timeout or a panic, described; `None` for an orderly exit.
fn crash(o: &Outcome) -> Option<String> {
    match &o.status {
        None => Some(format!("killed after {:.0} s (timeout)", o.seconds)),
        Some(s) => match (s.code(), signal(s)) {
            (_, Some(sig)) => Some(format!("killed by signal {sig}")),
            (Some(101), _) => Some("panicked (exit 101)".into()),
            _ => None,
        },
    }
}

/// True when some digit run of `line` is a wrapped `u64` (near `u64::MAX`) or a saturated `i64::MAX`.
fn shows_wrapped_integer(line: &str) -> bool {
    line.split(|c: char| !c.is_ascii_digit())
        .any(|d| (d.len() == 20 && d.starts_with("18446744073")) || d == "9223372036854775807")
}

/// What is wrong with a refusal's stderr; empty when it is one clear line.
fn message_problems(stderr: &str, case: &Case) -> Vec<String> {
    let line = stderr.strip_suffix('\n').unwrap_or(stderr);
    if line.trim().is_empty() {
        return vec!["stderr is empty".into()];
    }
    let mut problems = Vec::new();
    if line.contains('\n') {
        problems.push(format!("{} lines on stderr", line.lines().count()));
    }
    if line.contains("panicked") {
        problems.push("panic".into());
    }
    let missing: Vec<&String> = case
        .culprit
        .iter()
        .filter(|c| !c.split('|').any(|alt| line.contains(alt)))
        .collect();
    if !missing.is_empty() {
        problems.push(format!("does not name {missing:?}"));
    }
    let said: Vec<&String> = case.forbid.iter().filter(|f| line.contains(*f)).collect();
    if !said.is_empty() {
        problems.push(format!("says {said:?}"));
    }
    let segments: Vec<&str> = line
        .split(": ")
        .map(str::trim)
        .filter(|s| s.len() >= 4)
        .collect();
    if let Some(s) = segments
        .iter()
        .enumerate()
        .find_map(|(i, s)| segments[..i].contains(s).then_some(s))
    {
        problems.push(format!("repeats {s:?}"));
    }
    if shows_wrapped_integer(line) {
        problems.push("shows a wrapped or saturated integer".into());
    }
    problems
}

/// `Ok` when every `got` is within `1e-4 + 1e-3 |want| + 1e-5 max |want|` of `want`.
fn close(got: &[f64], want: &[f64]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} outputs, want {}", got.len(), want.len()));
    }
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    match got
        .iter()
        .zip(want)
        .position(|(g, w)| !within((g - w).abs(), 1e-4 + 1e-3 * w.abs() + 1e-5 * scale))
    {
        None => Ok(()),
        Some(i) => Err(format!("output {i} is {} vs {}", got[i], want[i])),
    }
}

/// `err <= bound`, false for a NaN error.
fn within(err: f64, bound: f64) -> bool {
    err <= bound
}

fn npy_f64(path: &Path) -> Result<Vec<f64>, String> {
    if let Ok(a) = ndarray_npy::read_npy::<_, ArrayD<f64>>(path) {
        return Ok(a.iter().copied().collect());
    }
    let a: ArrayD<f32> =
        ndarray_npy::read_npy(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(a.iter().map(|&v| f64::from(v)).collect())
}

/// The collapsed ONNX file `out` on the saved inputs, against onnxruntime's saved outputs (batch 1, so
/// the whole input is one sample).
fn onnx_agrees(case: &Case, out: &Path) -> Result<(), String> {
    let dir = hostile_dir();
    let x = npy_f64(&dir.join(format!("{}.inputs.npy", case.name)))?;
    let want = npy_f64(&dir.join(format!("{}.outputs.npy", case.name)))?;
    let m = OnnxModel::read(out).map_err(|e| format!("the output does not read back: {e}"))?;
    let model = import(&m, &Options::default())
        .map_err(|e| format!("the output does not import: {e}"))?
        .model;
    match forward_model(&model, &x) {
        Ok(got) => close(&got, &want),
        // the reference lacks an op: run_hostile.py checks such outputs with onnxruntime
        Err(Error::Unsupported { op_type, .. }) => {
            eprintln!(
                "{}: output not checked here (reference lacks {op_type})",
                case.name
            );
            Ok(())
        }
        Err(e) => Err(format!("the output does not run: {e}")),
    }
}

/// The collapsed Linear written to `out` against the one numpy computed.
fn spec_agrees(case: &Case, out: &Path) -> Result<(), String> {
    let w = Weights::read(out).map_err(|e| format!("the output does not read back: {e}"))?;
    for part in ["weight", "bias"] {
        let got: ArrayD<f64> = w.tensor(part).map_err(|e| e.to_string())?;
        let want = npy_f64(&hostile_dir().join(format!("{}.{part}.npy", case.name)))?;
        let got: Vec<f64> = got.iter().copied().collect();
        close(&got, &want).map_err(|e| format!("{part}: {e}"))?;
    }
    Ok(())
}

/// The problems of one command of `case` that was expected to `expect`; empty when it behaved.
fn judge(case: &Case, expect: &str, o: &Outcome, out: &Path, check_output: bool) -> Vec<String> {
    if let Some(c) = crash(o) {
        return vec![c];
    }
    let code = o.status.as_ref().and_then(ExitStatus::code);
    let expect = match (expect, code) {
        ("either", Some(2)) | ("any", Some(2)) => "refuse",
        ("either", _) => "accept",
        ("any", Some(0)) => return vec![],
        (e, _) => e,
    };
    let written: Vec<String> = std::fs::read_dir(out.parent().expect("a folder"))
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    if expect == "refuse" {
        let mut problems = Vec::new();
        if code != Some(2) {
            problems.push(format!("exit {code:?}, want 2"));
        }
        if code != Some(0) {
            problems.extend(message_problems(&o.stderr, case));
        }
        if !written.is_empty() {
            problems.push(format!("wrote {written:?}"));
        }
        return problems;
    }
    if code != Some(0) {
        return vec![format!("exit {code:?}, want 0")];
    }
    if !check_output {
        return vec![];
    }
    let agrees = match (case.spec, case.compare) {
        (_, false) if out.exists() => Ok(()),
        (_, false) => Err(format!("{} was not written", out.display())),
        (true, true) => spec_agrees(case, out),
        (false, true) => onnx_agrees(case, out),
    };
    agrees.err().into_iter().collect()
}

/// Runs one command of `case` in a fresh folder and returns its failure, if any.
fn check(case: &Case, cmd: &str, args: &[String], expect: &str, root: &Path) -> Option<String> {
    let work = root.join(format!("{}.{cmd}", case.name));
    let (outdir, logs) = (work.join("out"), work.join("logs"));
    std::fs::create_dir_all(&outdir).expect("output folder");
    std::fs::create_dir_all(&logs).expect("log folder");
    let out = outdir.join(format!("{}.out.{}", case.name, case.out_ext));
    let dir = hostile_dir().display().to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("{dir}", &dir)
                .replace("{out}", &out.display().to_string())
        })
        .collect();
    let o = run(&args, &logs);
    let problems = judge(case, expect, &o, &out, cmd == "collapse");
    (!problems.is_empty()).then(|| {
        let code = o.status.as_ref().and_then(ExitStatus::code);
        format!(
            "{} ({cmd}, expect {expect}, exit {code:?}): {}\n    stderr: {}",
            case.name,
            problems.join("; "),
            o.stderr.trim_end()
        )
    })
}

#[test]
fn every_hostile_input_is_refused_in_one_line_or_collapsed_correctly() {
    let cases = manifest();
    assert!(cases.len() >= 40, "only {} hostile cases", cases.len());
    let root = std::env::temp_dir().join(format!("lc-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut failures = Vec::new();
    for case in &cases {
        failures.extend(check(case, "collapse", &case.args, &case.expect, &root));
        if let Some(args) = &case.inspect_args {
            failures.extend(check(case, "inspect", args, &case.inspect_expect, &root));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        failures.is_empty(),
        "{} of {} hostile cases fail:\n{}",
        failures
            .iter()
            .map(|f| f.split(' ').next().unwrap_or_default())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        cases.len(),
        failures.join("\n")
    );
}
