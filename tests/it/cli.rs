//! The command line: exit codes (0 ok, 1 failed verification, 2 bad input), outputs, nothing written on
//! error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::io::{npy, safetensors};
use ndarray::{Array2, ArrayD, Ix2};

use crate::common::data_dir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_linear-collapse"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn case(name: &str) -> PathBuf {
    data_dir().join(name).join("model.onnx")
}

#[test]
fn collapse_writes_a_smaller_model_that_verifies() {
    let out = tmp("seed.onnx");
    let o = run(bin()
        .args(["collapse"])
        .arg(case("seed_conv_fc"))
        .arg("-o")
        .arg(&out)
        .arg("--verify"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("3 nodes -> 2"), "{text}");
    let ops = OnnxModel::read(&out).unwrap().op_types();
    assert_eq!(ops, ["Flatten", "Gemm"]);
    let v = run(bin().arg("verify").arg(case("seed_conv_fc")).arg(&out));
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
}

#[test]
fn verify_fails_with_status_1_on_a_different_function() {
    let v = run(bin()
        .arg("verify")
        .arg(case("conv_conv_fc"))
        .arg(case("conv_avgpool_fc")));
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(String::from_utf8_lossy(&v.stderr).starts_with("verification failed"));
}

#[test]
fn garbage_and_truncated_files_exit_2_and_write_nothing() {
    let bad = tmp("garbage.onnx");
    std::fs::write(&bad, b"this is not a protobuf at all \xff\xff\xff").unwrap();
    let bytes = std::fs::read(case("gemm_gemm")).unwrap();
    let cut = tmp("truncated.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for input in [&bad, &cut, &PathBuf::from("/nonexistent/model.onnx")] {
        let out = tmp("never.onnx");
        let o = run(bin().arg("collapse").arg(input).arg("-o").arg(&out));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", input.display());
        assert!(
            err.starts_with("error:") && err.trim_end().lines().count() == 1,
            "{err}"
        );
        assert!(!out.exists(), "{} was written", out.display());
    }
}

#[test]
fn inspect_lists_runs_with_form_and_reason() {
    let o = run(bin().arg("inspect").arg(case("conv_relu_conv_fc")));
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    // one run after the ReLU, kept: as one Linear it would cost more multiply-adds
    assert!(
        text.contains("Conv2d, Reshape, Linear")
            && text.contains("unchanged")
            && text.contains("why: as Linear it would take 6000 multiply-adds")
            && text.contains("total: 0 of 1 runs replaced; nodes 5,"),
        "{text}"
    );
}

fn seed_spec() -> PathBuf {
    data_dir().join("seed_conv_fc/chain.json")
}

#[test]
fn safetensors_round_trip_of_the_seed_case() {
    let out = tmp("seed.safetensors");
    let o = run(bin()
        .args(["collapse", "--weights"])
        .arg(data_dir().join("seed_conv_fc/weights.safetensors"))
        .arg("--spec")
        .arg(seed_spec())
        .arg("-o")
        .arg(&out)
        .arg("--verify"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let w = safetensors::Weights::read(&out).unwrap();
    assert_eq!(w.names(), ["bias", "weight"]);
    let weight: Array2<f32> = w
        .tensor::<f32>("weight")
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap();
    let want: Array2<f64> = npy::read(data_dir().join("seed_conv_fc/full.W_f64.npy")).unwrap();
    let err = weight.mapv(f64::from) - &want;
    assert!(
        err.iter().all(|e| e.abs() < 1e-6),
        "max {}",
        err.iter().fold(0.0f64, |m, e| m.max(e.abs()))
    );
    let stem = out.with_extension("");
    let from_npy: Array2<f32> = npy::read(format!("{}.weight.npy", stem.display())).unwrap();
    assert_eq!(from_npy, weight);
}

fn write_bad_weights(path: &Path, nan: bool) {
    let w =
        safetensors::Weights::read(data_dir().join("seed_conv_fc/weights.safetensors")).unwrap();
    let mut tensors: Vec<(String, ArrayD<f32>)> = w
        .names()
        .into_iter()
        .map(|n| {
            let t = w.tensor::<f32>(&n).unwrap();
            (n, t)
        })
        .collect();
    for (name, t) in &mut tensors {
        if name == "2.weight" {
            if nan {
                t[[3, 7]] = f32::NAN;
            } else {
                *t = ArrayD::zeros(vec![100, 1000]);
            }
        }
    }
    let refs: Vec<(&str, ArrayD<f32>)> = tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect();
    safetensors::write_f32(path, &refs).unwrap();
}

#[test]
fn nan_weights_and_mismatched_shapes_exit_2_naming_the_layer() {
    for (nan, needle) in [(true, "non-finite"), (false, "layer #2")] {
        let weights = tmp(if nan {
            "nan.safetensors"
        } else {
            "shape.safetensors"
        });
        write_bad_weights(&weights, nan);
        let out = tmp("never.safetensors");
        let o = run(bin()
            .args(["collapse", "--weights"])
            .arg(&weights)
            .arg("--spec")
            .arg(seed_spec())
            .arg("-o")
            .arg(&out));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle) && err.contains("Linear"), "{err}");
        assert!(!out.exists());
    }
}

#[test]
fn an_unknown_op_splits_the_run() {
    let out = tmp("erf.onnx");
    let input = data_dir().join("extra/conv_erf_conv_fc.onnx");
    let o = run(bin()
        .args(["collapse", "--force"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ops = OnnxModel::read(&out).unwrap().op_types();
    assert_eq!(ops, ["Conv", "Erf", "Flatten", "Gemm"]);
}
