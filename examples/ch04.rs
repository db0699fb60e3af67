//! Chapter 4 (`docs/04-when-two-convs-are-one.md`): conv∘conv collapsed into one conv, and the border
//! effect when the second conv pads.
//!
//! `cargo run --example ch04`

use linear_collapse::collapse_model;
use linear_collapse::graph::{Model, Op};
use linear_collapse::layer::{Conv2d, Conv2dConfig, Layer};
use linear_collapse::{reference, Options, Shape};
use ndarray::{array, Array2};

fn conv(k: &Array2<f64>, b: f64, pad: usize) -> linear_collapse::Result<Conv2d<f64>> {
    let (kh, kw) = k.dim();
    let w = k
        .clone()
        .into_shape_with_order((1, 1, kh, kw))
        .expect("same size");
    Conv2d::new(w, Some(array![b]), Conv2dConfig::default().padding(pad))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let k1 = array![[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]];
    let k2 = array![[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]];
    let input = Shape::chw(1, 12, 12);
    for pad2 in [0, 1] {
        let chain = vec![
            Op::Layer(conv(&k1, 0.5, 0)?.into()),
            Op::Layer(conv(&k2, 0.0, pad2)?.into()),
        ];
        let (small, reports) =
            collapse_model(&Model::sequential(input, chain)?, &Options::default())?;
        println!("conv2 padding {pad2}: {}", reports[0]);
        if let Op::Layer(Layer::Conv2d(c)) = &small.nodes()[0].op {
            println!(
                "  merged kernel:\n{}",
                c.weight().index_axis(ndarray::Axis(0), 0)
            );
        }
    }

    // The naive merge for padding 1, against the exact answer.
    let mut merged = Array2::<f64>::zeros((5, 5));
    for ((a, b), &v) in k1.indexed_iter() {
        for ((c, d), &u) in k2.indexed_iter() {
            merged[[a + c, b + d]] += u * v;
        }
    }
    let x: Vec<f64> = (0..144)
        .map(|i| ((i / 12) as f64 * 0.5).sin() + ((i % 12) as f64 * 0.3).cos())
        .collect();
    let exact: Vec<Layer<f64>> = vec![conv(&k1, 0.5, 0)?.into(), conv(&k2, 0.0, 1)?.into()];
    let naive: Vec<Layer<f64>> = vec![conv(&merged, k2.sum() * 0.5, 1)?.into()];
    let (e, _) = reference::forward(&exact, input, &x)?;
    let (n, _) = reference::forward(&naive, input, &x)?;
    println!("naive - exact, 10x10:");
    for r in 0..10 {
        let row: Vec<String> = (0..10)
            .map(|c| format!("{:6.2}", n[r * 10 + c] - e[r * 10 + c]))
            .collect();
        println!("  {}", row.join(""));
    }
    Ok(())
}
