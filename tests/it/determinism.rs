//! `Par::Seq` and `Par::Rayon` in pools of 1 and 2 threads give bit-identical results: the work is split
//! into blocks that depend only on the problem's shape.

use linear_collapse::layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear};
use linear_collapse::{collapse, Accumulate, Method, Options, Par, Shape};
use ndarray::{Array1, Array2, Array4};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn rand1(rng: &mut StdRng, n: usize) -> Array1<f32> {
    Array1::from_shape_simple_fn(n, || rng.gen_range(-1.0..1.0))
}

fn rand2(rng: &mut StdRng, shape: (usize, usize)) -> Array2<f32> {
    Array2::from_shape_simple_fn(shape, || rng.gen_range(-1.0..1.0))
}

fn rand4(rng: &mut StdRng, shape: (usize, usize, usize, usize)) -> Array4<f32> {
    Array4::from_shape_simple_fn(shape, || rng.gen_range(-1.0..1.0))
}

/// `Linear(700 -> 300) -> Linear(300 -> 1100)`: the product is 1100x700, 9x2 GEMM tiles.
fn linear_chain() -> (Vec<Layer<f32>>, Shape) {
    let mut rng = StdRng::seed_from_u64(1);
    let fc1 = Linear::new(rand2(&mut rng, (300, 700)), Some(rand1(&mut rng, 300)));
    let fc2 = Linear::new(rand2(&mut rng, (1100, 300)), Some(rand1(&mut rng, 1100)));
    let chain = vec![fc1.expect("valid").into(), fc2.expect("valid").into()];
    (chain, Shape::flat(700))
}

/// `Conv2d(3->8, k3, p1) -> Conv2d(8->8, k3, g2) -> Flatten -> Linear(1568 -> 200)` on 3x16x16: with
/// `Method::Dense` the products are 200x2048 and 200x768, several tiles each.
fn conv_chain() -> (Vec<Layer<f32>>, Shape) {
    let mut rng = StdRng::seed_from_u64(2);
    let conv1 = Conv2d::new(
        rand4(&mut rng, (8, 3, 3, 3)),
        Some(rand1(&mut rng, 8)),
        Conv2dConfig::default().padding(1),
    );
    let conv2 = Conv2d::new(
        rand4(&mut rng, (8, 4, 3, 3)),
        Some(rand1(&mut rng, 8)),
        Conv2dConfig::default().groups(2),
    );
    let fc = Linear::new(
        rand2(&mut rng, (200, 8 * 14 * 14)),
        Some(rand1(&mut rng, 200)),
    );
    let chain = vec![
        conv1.expect("valid").into(),
        conv2.expect("valid").into(),
        Flatten.into(),
        fc.expect("valid").into(),
    ];
    (chain, Shape::chw(3, 16, 16))
}

/// `Conv2d(3->8, k3, p1) -> Conv2d(8->8, k3, g2) -> Flatten -> Linear(3872 -> 64)` on 3x24x24: the first
/// conv has 576 output positions, more than one tile of the im2col kernels.
fn big_conv_chain() -> (Vec<Layer<f32>>, Shape) {
    let mut rng = StdRng::seed_from_u64(3);
    let conv1 = Conv2d::new(
        rand4(&mut rng, (8, 3, 3, 3)),
        Some(rand1(&mut rng, 8)),
        Conv2dConfig::default().padding(1),
    );
    let conv2 = Conv2d::new(
        rand4(&mut rng, (8, 4, 3, 3)),
        None,
        Conv2dConfig::default().groups(2),
    );
    let fc = Linear::new(
        rand2(&mut rng, (64, 8 * 22 * 22)),
        Some(rand1(&mut rng, 64)),
    );
    let chain = vec![
        conv1.expect("valid").into(),
        conv2.expect("valid").into(),
        Flatten.into(),
        fc.expect("valid").into(),
    ];
    (chain, Shape::chw(3, 24, 24))
}

/// Weight and bias bits of one collapse.
fn bits(chain: &[Layer<f32>], input: Shape, opts: &Options) -> (Vec<u32>, Vec<u32>) {
    let fc = collapse(chain, input, opts).expect("collapse");
    let w = fc.weight().iter().map(|v| v.to_bits()).collect();
    let b = fc.bias_or_zeros().iter().map(|v| v.to_bits()).collect();
    (w, b)
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

/// Collapses with `Par::Seq`, then `Par::Rayon` in pools of 1 and 2 threads, and asserts equal bits.
fn check(chain: &[Layer<f32>], input: Shape, method: Method, accumulate: Accumulate) {
    let opts = |par| Options {
        method,
        accumulate,
        par,
        ..Options::default()
    };
    let seq = bits(chain, input, &opts(Par::Seq));
    for threads in [1, 2] {
        let par = in_pool(threads, || bits(chain, input, &opts(Par::Rayon)));
        assert!(
            seq.0 == par.0,
            "{method:?}, {accumulate:?}: weights differ between Par::Seq and Par::Rayon with {threads} threads"
        );
        assert!(
            seq.1 == par.1,
            "{method:?}, {accumulate:?}: biases differ between Par::Seq and Par::Rayon with {threads} threads"
        );
    }
}

#[test]
fn linear_linear_is_bit_identical() {
    let (chain, input) = linear_chain();
    check(&chain, input, Method::Auto, Accumulate::Native);
    check(&chain, input, Method::Dense, Accumulate::Native);
    check(&chain, input, Method::Sparse, Accumulate::F64);
}

#[test]
fn conv_chain_dense_is_bit_identical() {
    let (chain, input) = conv_chain();
    check(&chain, input, Method::Dense, Accumulate::Native);
    check(&chain, input, Method::Dense, Accumulate::F64);
}

#[test]
fn conv_chain_sparse_is_bit_identical() {
    let (chain, input) = conv_chain();
    check(&chain, input, Method::Sparse, Accumulate::Native);
    check(&chain, input, Method::Sparse, Accumulate::F64);
}

#[test]
fn conv_chain_im2col_and_auto_are_bit_identical() {
    let (chain, input) = conv_chain();
    check(&chain, input, Method::Im2col, Accumulate::Native);
    check(&chain, input, Method::Auto, Accumulate::F64);
}

#[test]
fn conv_chain_over_several_tiles_is_bit_identical() {
    let (chain, input) = big_conv_chain();
    check(&chain, input, Method::Im2col, Accumulate::Native);
    check(&chain, input, Method::Sparse, Accumulate::Native);
    check(&chain, input, Method::Auto, Accumulate::F64);
}
