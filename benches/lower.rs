//! Building the Toeplitz matrix of a convolution, sparse (CSR) and dense, per benchmark size.
//!
//! `cargo bench --bench lower`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use linear_collapse::layer::Layer;
use linear_collapse::lower::toeplitz;
use linear_collapse::sizes::SIZES;
use std::hint::black_box;

fn lower(c: &mut Criterion) {
    let mut group = c.benchmark_group("lower");
    group.sample_size(10);
    for size in SIZES {
        let chain = size.chain::<f32>(0).expect("built-in size");
        let Layer::Conv2d(conv) = &chain[0] else {
            unreachable!("sizes start with a conv")
        };
        group.bench_with_input(BenchmarkId::new("csr", size.name), conv, |b, conv| {
            b.iter(|| toeplitz(black_box(conv), size.input()).expect("lower"))
        });
    }
    group.finish();
}

criterion_group!(benches, lower);
criterion_main!(benches);
