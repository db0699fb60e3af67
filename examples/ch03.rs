//! Chapter 3 (`docs/03-probing-and-the-analytic-way.md`): probing against the three analytic methods on
//! the seed geometry, with the multiply-add counts of the cost table.
//!
//! `cargo run --release --features bench --example ch03`

use std::time::Instant;

use linear_collapse::layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear};
use linear_collapse::{baseline, collapse, compose::explain, lower::toeplitz};
use linear_collapse::{Method, Options, Shape};
use ndarray::{Array2, Array4};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let k = Array4::from_shape_fn((50, 5, 5, 5), |(o, c, a, b)| {
        ((o + c + a * b) % 7) as f32 * 0.01
    });
    let conv = Conv2d::new(k, None, Conv2dConfig::default().stride(2))?;
    let input = Shape::chw(5, 13, 13);
    let nnz = toeplitz(&conv, input)?.matrix.nnz() as u64;
    let (n_in, n_mid, f) = (845u64, 1250u64, 100u64);
    let fc = Linear::new(
        Array2::from_shape_fn((100, 1250), |(i, j)| ((i + j) % 3) as f32 * 0.1),
        None,
    )?;
    let chain: Vec<Layer<f32>> = vec![conv.into(), Flatten.into(), fc.into()];
    println!("{}", explain(&chain, input, &Options::default())?);

    let t0 = Instant::now();
    baseline::probe_batched(&chain, input, &Options::default())?;
    let probe_ms = t0.elapsed().as_secs_f64() * 1e3;
    println!(
        "{:<8} {:>8.2} ms  {:>12} multiply-adds",
        "probe",
        probe_ms,
        n_in * (nnz + n_mid * f)
    );
    for (name, method, macs) in [
        ("dense", Method::Dense, f * n_mid * n_in),
        ("sparse", Method::Sparse, f * nnz),
        ("im2col", Method::Im2col, f * nnz),
    ] {
        let opts = Options {
            method,
            ..Options::default()
        };
        collapse(&chain, input, &opts)?; // warm-up
        let t0 = Instant::now();
        collapse(&chain, input, &opts)?;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        println!("{name:<8} {ms:>8.2} ms  {macs:>12} multiply-adds");
    }
    Ok(())
}
