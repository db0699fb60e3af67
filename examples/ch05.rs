//! Chapter 5 (`docs/05-accuracy.md`): probing in float32 against the analytic collapse, both measured
//! against PyTorch's float64 `W` of the seed fixture.
//!
//! `cargo run --example ch05`

use linear_collapse::io::{npy, safetensors::Weights, spec};
use linear_collapse::verify::Comparison;
use linear_collapse::{collapse, Accumulate, Options};
use ndarray::Array2;

const CASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed_conv_fc");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let weights = Weights::read(format!("{CASE}/weights.safetensors"))?;
    let (chain, input) = spec::load(
        &std::fs::read_to_string(format!("{CASE}/chain.json"))?,
        &weights,
    )?;
    let reference: Array2<f64> = npy::read(format!("{CASE}/full.W_f64.npy"))?;
    let probe: Array2<f32> = npy::read(format!("{CASE}/full.W_probe_f32.npy"))?;
    let native = collapse(&chain, input, &Options::default())?;
    let wide = collapse(
        &chain,
        input,
        &Options {
            accumulate: Accumulate::F64,
            ..Options::default()
        },
    )?;
    let rounded = reference.mapv(|v| v as f32);
    println!("relative Frobenius error of W against PyTorch float64:");
    for (name, w) in [
        ("PyTorch probing, float32", probe.view()),
        ("collapse, float32", native.weight().view()),
        ("collapse, Accumulate::F64", wide.weight().view()),
        ("float64 rounded to float32", rounded.view()),
    ] {
        let c = Comparison::of(w, reference.view())?;
        println!("  {name:<28} {:.2e} (max abs {:.2e})", c.rel_fro, c.max_abs);
    }
    Ok(())
}
