//! The probing baseline (batched im2col + GEMM forward passes over the identity, chunked) per size.
//!
//! `cargo bench --bench probe`. `big` takes about 20 s per run; its 10 samples take minutes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use linear_collapse::baseline::probe_batched;
use linear_collapse::sizes::SIZES;
use linear_collapse::Options;
use std::hint::black_box;

fn probe(c: &mut Criterion) {
    let mut group = c.benchmark_group("probe");
    group.sample_size(10);
    for size in SIZES {
        let chain = size.chain::<f32>(0).expect("built-in size");
        let opts = Options::default();
        group.bench_with_input(
            BenchmarkId::new("batched", size.name),
            &chain,
            |b, chain| {
                b.iter(|| probe_batched(black_box(chain), size.input(), &opts).expect("probe"))
            },
        );
    }
    group.finish();
}

criterion_group!(benches, probe);
criterion_main!(benches);
