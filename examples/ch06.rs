//! Chapter 6 (`docs/06-collapsing-a-real-model.md`): collapse every linear run of an ONNX model, in Rust.
//!
//! `cargo run --example ch06 -- IN.onnx OUT.onnx` (defaults: the `conv_relu_conv_fc` fixture, and
//! `collapsed.onnx` in the system's temporary directory)

use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::{pipeline, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/conv_relu_conv_fc/model.onnx"
        )
        .into()
    });
    let output = args
        .next()
        .map(Into::into)
        .unwrap_or_else(|| std::env::temp_dir().join("collapsed.onnx"));
    let original = OnnxModel::read(&input)?;
    let (collapsed, summary) =
        pipeline::collapse_onnx(original, &Options::default(), &mut |_, _| {})?;
    print!("{summary}");
    collapsed.write(&output)?;
    println!("wrote {}", output.display());
    Ok(())
}
