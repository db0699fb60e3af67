//! Regenerates every picture of the chapters in `docs/` (except `bench.svg`, which
//! `examples/plot_bench.rs` draws from measured data).
//!
//! `cargo run --release --example draw -- docs/images`

#[cfg(feature = "draw")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/images".into());
    for path in linear_collapse::draw::chapters(&dir)? {
        let bytes = std::fs::metadata(&path)?.len();
        println!("wrote {} ({:.1} KB)", path.display(), bytes as f64 / 1e3);
    }
    Ok(())
}

#[cfg(not(feature = "draw"))]
fn main() {
    eprintln!(
        "the pictures need the `draw` feature: cargo run --release --features draw --example draw"
    );
    std::process::exit(2);
}
