//! Chapter 2 (`docs/02-toeplitz-by-hand.md`): Toeplitz matrices of small convolutions, printed.
//!
//! `cargo run --example ch02`

use linear_collapse::{
    layer::{Conv2d, Conv2dConfig},
    lower::toeplitz,
    Shape,
};
use ndarray::{array, Array4};

fn show(name: &str, conv: &Conv2d<f32>, input: Shape) -> Result<(), linear_collapse::Error> {
    let t = toeplitz(conv, input)?;
    let d = t.to_dense()?;
    println!(
        "{name}: {} on {input} -> {}; T is {} x {} with {} stored entries",
        conv.describe(),
        t.output_shape,
        d.nrows(),
        d.ncols(),
        t.matrix.nnz()
    );
    for row in d.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|&v| {
                if v == 0.0 {
                    " .".into()
                } else {
                    format!("{v:2}")
                }
            })
            .collect();
        println!("  {}", cells.join(" "));
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let k = array![[1.0f32, 2.0], [3.0, 4.0]].into_shape_with_order((1, 1, 2, 2))?;
    show(
        "2x2 kernel",
        &Conv2d::new(k, None, Conv2dConfig::default())?,
        Shape::chw(1, 4, 4),
    )?;
    let k3 = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, a, b)| (3 * a + b + 1) as f32);
    show(
        "stride 2, padding 1",
        &Conv2d::new(k3, None, Conv2dConfig::default().stride(2).padding(1))?,
        Shape::chw(1, 4, 4),
    )?;
    let k2 = Array4::from_elem((1, 1, 2, 2), 1.0f32);
    show(
        "dilation 2",
        &Conv2d::new(k2, None, Conv2dConfig::default().dilation(2))?,
        Shape::chw(1, 4, 4),
    )?;
    let kg = Array4::from_elem((2, 1, 2, 2), 1.0f32);
    show(
        "groups 2",
        &Conv2d::new(kg, None, Conv2dConfig::default().groups(2))?,
        Shape::chw(2, 3, 3),
    )?;
    Ok(())
}
