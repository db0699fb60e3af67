//! Chapter 1 (`docs/01-affine-maps-compose.md`): the seed chain, its parameter counts, and the collapse.
//!
//! `cargo run --example ch01`

use linear_collapse::io::{safetensors::Weights, spec};
use linear_collapse::layer::Layer;
use linear_collapse::{collapse, infer, reference, verify::Comparison, Options};
use ndarray::{array, Array1};

const CASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed_conv_fc");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // (W2, b2) o (W1, b1) = (W2 W1, W2 b1 + b2), by hand.
    let (w1, b1) = (
        array![[1.0, 2.0], [0.0, 1.0], [1.0, -1.0]],
        array![0.5, 0.0, -1.0],
    );
    let (w2, b2) = (array![[1.0, 0.0, 2.0]], array![3.0]);
    println!(
        "W = W2 W1 = {}, b = W2 b1 + b2 = {}",
        w2.dot(&w1),
        w2.dot(&b1) + &b2
    );

    let w = Weights::read(format!("{CASE}/weights.safetensors"))?;
    let (chain, input) = spec::load(&std::fs::read_to_string(format!("{CASE}/chain.json"))?, &w)?;
    let shapes = infer::shapes(&chain, input)?;
    for (i, layer) in chain.iter().enumerate() {
        println!(
            "#{i} {:<28} {} -> {}: {} parameters",
            layer.describe(),
            shapes[i],
            shapes[i + 1],
            layer.num_params()
        );
    }
    let before: usize = chain.iter().map(Layer::num_params).sum();
    let one = collapse(&chain, input, &Options::default())?;
    println!(
        "collapsed: {} with {} parameters (was {before})",
        one.describe(),
        one.num_params()
    );

    let x: Vec<f32> = (0..845)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let fast = one.apply(&Array1::from(x.clone()));
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let (slow, _) = reference::forward(&chain, input, &x64)?;
    let c = Comparison::of(fast.view(), Array1::from(slow).view())?;
    println!(
        "collapsed vs layer by layer: max abs {:.2e}, rel {:.2e}",
        c.max_abs, c.rel_fro
    );
    Ok(())
}
