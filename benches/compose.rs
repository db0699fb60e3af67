//! Collapse time per benchmark size (DESIGN.md section 6) and per method; float32, default thread pool.
//!
//! Methods whose plan exceeds the memory budget are skipped with a message (the dense Toeplitz path on
//! `big` needs 12.9 GB). `cargo bench --bench compose`; `examples/compare` gives the same numbers as JSON.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use linear_collapse::compose::explain;
use linear_collapse::sizes::SIZES;
use linear_collapse::{collapse, Method, Options};
use std::hint::black_box;

fn compose(c: &mut Criterion) {
    let mut group = c.benchmark_group("compose");
    group.sample_size(10);
    for size in SIZES {
        let chain = size.chain::<f32>(0).expect("built-in size");
        for (name, method) in [
            ("im2col", Method::Im2col),
            ("sparse", Method::Sparse),
            ("dense", Method::Dense),
            ("auto", Method::Auto),
        ] {
            let opts = Options {
                method,
                ..Options::default()
            };
            if let Err(e) = explain(&chain, size.input(), &opts) {
                eprintln!("compose/{name}/{}: skipped: {e}", size.name);
                continue;
            }
            group.bench_with_input(BenchmarkId::new(name, size.name), &chain, |b, chain| {
                b.iter(|| collapse(black_box(chain), size.input(), &opts).expect("collapse"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, compose);
criterion_main!(benches);
