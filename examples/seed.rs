//! The seed problem: `Conv2d(5, 50, 5, stride 2) -> Flatten -> Linear(1250, 100)` on a 5x13x13 input,
//! collapsed into one `Linear(845 -> 100)` analytically, then checked three ways.
//!
//! `cargo run --release --example seed [-- --save DIR]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use linear_collapse::io::{npy, safetensors::Weights, spec};
use linear_collapse::layer::Layer;
use linear_collapse::verify::{allclose, Comparison};
use linear_collapse::{collapse, infer, reference, Accumulate, Options};
use ndarray::{Array1, Array2};
use rand::{rngs::StdRng, Rng, SeedableRng};

const CASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed_conv_fc");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let save = parse_args()?;
    let case = Path::new(CASE);
    // The chain in PyTorch's vocabulary (tests/data/seed_conv_fc/chain.json), weights from its state_dict.
    let w = Weights::read(case.join("weights.safetensors"))?;
    let (chain, input) = spec::load(&std::fs::read_to_string(case.join("chain.json"))?, &w)?;

    println!("chain (input {input}):");
    let shapes = infer::shapes(&chain, input)?;
    for (i, layer) in chain.iter().enumerate() {
        println!(
            "  #{i} {:<28} {} -> {}  ({} parameters)",
            layer.describe(),
            shapes[i],
            shapes[i + 1],
            layer.num_params()
        );
    }
    let before: usize = chain.iter().map(Layer::num_params).sum();

    let t0 = Instant::now();
    let collapsed = collapse(&chain, input, &Options::default())?;
    let t_native = t0.elapsed();
    let t0 = Instant::now();
    let wide = collapse(
        &chain,
        input,
        &Options {
            accumulate: Accumulate::F64,
            ..Options::default()
        },
    )?;
    let t_wide = t0.elapsed();
    println!(
        "collapsed: Linear({} -> {}), weight {:?}, bias ({}): {} parameters (was {before}, {:.1}%)",
        collapsed.in_features(),
        collapsed.out_features(),
        collapsed.weight().dim(),
        collapsed.out_features(),
        collapsed.num_params(),
        100.0 * collapsed.num_params() as f64 / before as f64,
    );
    println!(
        "time: {:.3} ms (f32), {:.3} ms (f64 accumulation)",
        ms(t_native),
        ms(t_wide)
    );
    let spectrum = linear_collapse::verify::spectrum(collapsed.weight())?;
    println!(
        "rank {} of {} (singular values {:.3e} .. {:.3e}, LAPACK SVD)",
        spectrum.rank,
        collapsed.out_features(),
        spectrum.sigma_max,
        spectrum.sigma_min
    );

    let w64: Array2<f64> = npy::read(case.join("full.W_f64.npy"))?;
    let b64: Array1<f64> = npy::read(case.join("full.b_f64.npy"))?;
    let wp32: Array2<f32> = npy::read(case.join("full.W_probe_f32.npy"))?;
    println!("\nagainst the PyTorch float64 reference (full.W_f64.npy, full.b_f64.npy):");
    report(
        "  W, f32 accumulation",
        &Comparison::of(collapsed.weight().view(), w64.view())?,
    );
    report(
        "  W, f64 accumulation",
        &Comparison::of(wide.weight().view(), w64.view())?,
    );
    report(
        "  b, f32 accumulation",
        &Comparison::of(collapsed.bias().expect("bias").view(), b64.view())?,
    );
    report(
        "  W, PyTorch probing in f32",
        &Comparison::of(wp32.view(), w64.view())?,
    );

    let t0 = Instant::now();
    let probe = reference::probe(&chain, input)?;
    println!(
        "\nagainst this crate's own probe (845 reference forward passes in f64, {:.1} ms):",
        ms(t0.elapsed())
    );
    report(
        "  W",
        &Comparison::of(collapsed.weight().view(), probe.weight.view())?,
    );
    report(
        "  b",
        &Comparison::of(collapsed.bias().expect("bias").view(), probe.bias.view())?,
    );

    let mut rng = StdRng::seed_from_u64(0);
    let mut all = true;
    let mut worst = 0.0f64;
    for _ in 0..5 {
        let x: Vec<f32> = (0..input.numel())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let y = collapsed.apply(&Array1::from(x.clone()));
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let (want, _) = reference::forward(&chain, input, &x64)?;
        let want = Array1::from(want);
        worst = worst.max(Comparison::of(y.view(), want.view())?.max_abs);
        all &= allclose(y.view(), want.view(), 1e-6, 1e-5);
    }
    println!("\n5 random inputs, collapsed Linear in f32 vs layer-by-layer forward in f64:");
    println!("  max abs {worst:.3e}; allclose(atol=1e-6, rtol=1e-5): {all}");

    if let Some(dir) = save {
        std::fs::create_dir_all(&dir)?;
        npy::write(dir.join("weight.npy"), collapsed.weight())?;
        npy::write(dir.join("bias.npy"), collapsed.bias().expect("bias"))?;
        println!(
            "\nwrote {0}/weight.npy (100, 845) and {0}/bias.npy (100,), float32",
            dir.display()
        );
    }
    Ok(())
}

fn report(what: &str, c: &Comparison) {
    println!(
        "{what:<30} max abs {:.3e}, rel Frobenius {:.3e}",
        c.max_abs, c.rel_fro
    );
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn parse_args() -> Result<Option<PathBuf>, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, dir] if flag == "--save" => Ok(Some(PathBuf::from(dir))),
        _ => Err("usage: seed [--save DIR]".into()),
    }
}
