//! Models with branches and nonlinearities: each maximal linear run collapses to its smallest exact form,
//! checked against the original model's reference forward pass and the golden fixtures.

use linear_collapse::form::Form;
use linear_collapse::graph::{Model, Nonlinear, Op, Src};
use linear_collapse::layer::{BatchNorm, Conv2d, Conv2dConfig, Flatten, Layer, Linear};
use linear_collapse::verify::forward_model;
use linear_collapse::{collapse_model, Options, Policy, Shape};
use ndarray::{Array1, Array2, Array4, Ix1, Ix2};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::Value;

use crate::common::{assert_close, data_dir, layer_from_json, Tol};

fn rnd4(rng: &mut StdRng, d: (usize, usize, usize, usize)) -> Array4<f64> {
    Array4::from_shape_simple_fn(d, || rng.gen_range(-0.5..0.5))
}

fn rnd1(rng: &mut StdRng, n: usize) -> Array1<f64> {
    Array1::from_shape_simple_fn(n, || rng.gen_range(-0.5..0.5))
}

fn conv(
    rng: &mut StdRng,
    c_in: usize,
    c_out: usize,
    k: usize,
    cfg: Conv2dConfig,
    bias: bool,
) -> Op<f64> {
    let w = rnd4(rng, (c_out, c_in / cfg.groups, k, k));
    Op::Layer(Layer::Conv2d(
        Conv2d::new(w, bias.then(|| rnd1(rng, c_out)), cfg).unwrap(),
    ))
}

fn bn(rng: &mut StdRng, c: usize) -> Op<f64> {
    let var = Array1::from_shape_simple_fn(c, || rng.gen_range(0.5..2.0));
    Op::Layer(Layer::BatchNorm(
        BatchNorm::new(
            rnd1(rng, c),
            var,
            1e-5,
            Some(rnd1(rng, c)),
            Some(rnd1(rng, c)),
        )
        .unwrap(),
    ))
}

/// The collapsed model computes the same function as the original, on random inputs.
fn assert_same_function(a: &Model<f64>, b: &Model<f64>) {
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..3 {
        let x: Vec<f64> = (0..a.input_shape().numel())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let (ya, yb) = (forward_model(a, &x).unwrap(), forward_model(b, &x).unwrap());
        let (ya, yb) = (Array1::from(ya), Array1::from(yb));
        assert_close(
            yb.view(),
            ya.view(),
            Tol::eps_scaled::<f64>(x.len()).magnitude(1e3),
            "collapsed vs original",
        );
    }
}

#[test]
fn conv_conv_becomes_one_conv() {
    let mut rng = StdRng::seed_from_u64(1);
    let m = Model::sequential(
        Shape::chw(3, 12, 11),
        vec![
            conv(&mut rng, 3, 8, 3, Conv2dConfig::default().padding(1), true),
            conv(&mut rng, 8, 4, 3, Conv2dConfig::default().stride(2), true),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].form, Form::Conv2d, "{}", reports[0]);
    assert_eq!(small.nodes().len(), 1);
    assert!(
        reports[0].params.1 < reports[0].params.0 * 3,
        "{}",
        reports[0]
    );
    assert_same_function(&m, &small);
}

#[test]
fn repvgg_block_becomes_one_3x3_conv() {
    let mut rng = StdRng::seed_from_u64(2);
    let c = 4;
    let mut m = Model::new(Shape::chw(c, 9, 7));
    let a = m
        .push(
            "3x3",
            conv(&mut rng, c, c, 3, Conv2dConfig::default().padding(1), false),
            vec![Src::Input],
        )
        .unwrap();
    let a = m.push("bn_a", bn(&mut rng, c), vec![a]).unwrap();
    let b = m
        .push(
            "1x1",
            conv(&mut rng, c, c, 1, Conv2dConfig::default(), false),
            vec![Src::Input],
        )
        .unwrap();
    let b = m.push("bn_b", bn(&mut rng, c), vec![b]).unwrap();
    let i = m.push("bn_id", bn(&mut rng, c), vec![Src::Input]).unwrap();
    m.push("sum", Op::Add, vec![a, b, i]).unwrap();
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    assert_eq!(reports[0].form, Form::Conv2d, "{}", reports[0]);
    let Op::Layer(Layer::Conv2d(k)) = &small.nodes()[0].op else {
        panic!("{:?}", small.nodes())
    };
    assert_eq!(k.kernel_size(), [3, 3]);
    assert_eq!(small.nodes().len(), 1);
    assert_same_function(&m, &small);
}

#[test]
fn padding_in_the_second_conv_is_refused_with_a_reason() {
    let mut rng = StdRng::seed_from_u64(3);
    let m = Model::sequential(
        Shape::chw(2, 8, 8),
        vec![
            conv(&mut rng, 2, 3, 3, Conv2dConfig::default(), true),
            conv(&mut rng, 3, 2, 3, Conv2dConfig::default().padding(1), true),
            Op::Layer(Layer::Flatten(Flatten)),
        ],
    )
    .unwrap();
    // the Linear form costs more than the run, so the default keeps it and says why
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    assert_eq!(reports[0].form, Form::Unchanged, "{}", reports[0]);
    assert!(
        reports[0].why.contains("border outputs differ"),
        "{}",
        reports[0].why
    );
    assert_same_function(&m, &small);
}

#[test]
fn a_1x1_conv_with_bias_before_a_padded_conv_is_refused() {
    let mut rng = StdRng::seed_from_u64(4);
    let m = Model::sequential(
        Shape::chw(2, 6, 6),
        vec![
            conv(&mut rng, 2, 3, 1, Conv2dConfig::default(), true),
            conv(&mut rng, 3, 2, 3, Conv2dConfig::default().padding(1), false),
        ],
    )
    .unwrap();
    let (_, reports) = collapse_model(
        &m,
        &Options {
            policy: Policy::Macs,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(reports[0].form, Form::Unchanged, "{}", reports[0]);
    assert!(
        reports[0].why.contains("1x1 conv with a bias"),
        "{}",
        reports[0].why
    );
    // without the bias it is exact
    let m = Model::sequential(
        Shape::chw(2, 6, 6),
        vec![
            conv(&mut rng, 2, 3, 1, Conv2dConfig::default(), false),
            conv(&mut rng, 3, 2, 3, Conv2dConfig::default().padding(1), false),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    assert_eq!(reports[0].form, Form::Conv2d, "{}", reports[0]);
    assert_same_function(&m, &small);
}

#[test]
fn mismatched_groups_compose_into_their_common_groups() {
    let mut rng = StdRng::seed_from_u64(6);
    let force = Options {
        policy: Policy::Force,
        ..Options::default()
    };
    // groups 2 then 4: block-diagonal in 2 blocks (gcd), not dense
    let m = Model::sequential(
        Shape::chw(4, 7, 7),
        vec![
            conv(&mut rng, 4, 4, 3, Conv2dConfig::default().groups(2), true),
            conv(&mut rng, 4, 4, 3, Conv2dConfig::default().groups(4), true),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &force).unwrap();
    let Op::Layer(Layer::Conv2d(k)) = &small.nodes()[0].op else {
        panic!("{}", reports[0])
    };
    assert_eq!(k.groups(), 2);
    assert_same_function(&m, &small);
    // groups 2 then 3 share no partition: dense
    let m = Model::sequential(
        Shape::chw(6, 7, 7),
        vec![
            conv(&mut rng, 6, 6, 3, Conv2dConfig::default().groups(2), true),
            conv(&mut rng, 6, 6, 3, Conv2dConfig::default().groups(3), true),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &force).unwrap();
    let Op::Layer(Layer::Conv2d(k)) = &small.nodes()[0].op else {
        panic!("{}", reports[0])
    };
    assert_eq!(k.groups(), 1);
    assert_same_function(&m, &small);
    // equal groups stay grouped
    let m = Model::sequential(
        Shape::chw(4, 7, 7),
        vec![
            conv(&mut rng, 4, 6, 3, Conv2dConfig::default().groups(2), true),
            conv(&mut rng, 6, 4, 3, Conv2dConfig::default().groups(2), true),
        ],
    )
    .unwrap();
    let (small, _) = collapse_model(&m, &force).unwrap();
    let Op::Layer(Layer::Conv2d(k)) = &small.nodes()[0].op else {
        panic!()
    };
    assert_eq!(k.groups(), 2);
    assert_same_function(&m, &small);
}

#[test]
fn each_run_between_relus_collapses() {
    let mut rng = StdRng::seed_from_u64(7);
    let fc = |rng: &mut StdRng, o: usize, i: usize| {
        Op::Layer(Layer::Linear(
            Linear::new(
                Array2::from_shape_simple_fn((o, i), || rng.gen_range(-0.3..0.3)),
                Some(rnd1(rng, o)),
            )
            .unwrap(),
        ))
    };
    let m = Model::sequential(
        Shape::chw(2, 6, 6),
        vec![
            conv(&mut rng, 2, 4, 3, Conv2dConfig::default().padding(1), true),
            bn(&mut rng, 4),
            Op::Nonlinear(Nonlinear::Relu),
            conv(&mut rng, 4, 3, 3, Conv2dConfig::default(), true),
            Op::Layer(Layer::Flatten(Flatten)),
            fc(&mut rng, 10, 48),
            fc(&mut rng, 5, 10),
            Op::Nonlinear(Nonlinear::Tanh),
            fc(&mut rng, 3, 5),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &force()).unwrap();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0].form, Form::Conv2d, "{}", reports[0]);
    assert_eq!(reports[1].form, Form::Linear, "{}", reports[1]);
    // conv+bn -> conv; relu; flatten+linear; tanh; linear
    assert_eq!(
        small.nodes().len(),
        6,
        "{:?}",
        small
            .nodes()
            .iter()
            .map(|n| n.op.describe())
            .collect::<Vec<_>>()
    );
    assert_same_function(&m, &small);
}

#[test]
fn a_bottleneck_pair_becomes_a_low_rank_pair_not_a_dense_matrix() {
    let mut rng = StdRng::seed_from_u64(8);
    let w1 = Array2::from_shape_simple_fn((16, 300), || rng.gen_range(-0.1..0.1));
    let w2 = Array2::from_shape_simple_fn((300, 16), || rng.gen_range(-0.1..0.1));
    let m = Model::sequential(
        Shape::flat(300),
        vec![
            Op::Layer(Layer::Linear(
                Linear::new(w1, Some(rnd1(&mut rng, 16))).unwrap(),
            )),
            Op::Layer(Layer::Linear(
                Linear::new(w2, Some(rnd1(&mut rng, 300))).unwrap(),
            )),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    assert_eq!(reports[0].form, Form::LowRank(16), "{}", reports[0]);
    assert!(reports[0].params.1 <= reports[0].params.0, "{}", reports[0]);
    assert_same_function(&m, &small);
}

/// A fixture with branches and nonlinearities, rebuilt as a model.
fn load_graph(name: &str) -> (Model<f32>, Value) {
    let dir = data_dir().join(name);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let weights =
        linear_collapse::io::safetensors::Weights::read(dir.join("weights.safetensors")).unwrap();
    let dims: Vec<usize> = json["input"]["per_sample_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let mut m = Model::new(Shape::from_dims(&dims).unwrap());
    let mut ids: Vec<String> = Vec::new();
    for l in json["layers"].as_array().unwrap() {
        let inputs: Vec<Src> = l["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| match s.as_str().unwrap() {
                "input" => Src::Input,
                id => Src::Node(ids.iter().position(|x| x == id).unwrap()),
            })
            .collect();
        let op = match l["type"].as_str().unwrap() {
            "ReLU" => Op::Nonlinear(Nonlinear::Relu),
            "Add" => Op::Add,
            _ => Op::Layer(layer_from_json(l, &weights)),
        };
        m.push(l["id"].as_str().unwrap(), op, inputs).unwrap();
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    (m, json)
}

/// Every run that reads one value and gives one replaced by its smallest form, costlier or not.
fn force() -> Options {
    Options {
        policy: Policy::Force,
        ..Options::default()
    }
}

fn check_golden_graph(name: &str, segment: &str, expected_nodes: usize) {
    let (m, _) = load_graph(name);
    // the golden cases collapse whole segments into one Linear, costlier or not
    let force = Options {
        policy: Policy::Force,
        ..Options::default()
    };
    let (small, reports) = collapse_model(&m, &force).unwrap();
    assert_eq!(small.nodes().len(), expected_nodes, "{name}: {reports:?}");
    // The collapsed Linear against PyTorch's float64 probe.
    let fc = small
        .nodes()
        .iter()
        .rev()
        .find_map(|n| match &n.op {
            Op::Layer(Layer::Linear(l)) => Some(l.clone()),
            _ => None,
        })
        .expect("a Linear");
    let dir = data_dir().join(name);
    let w: Array2<f64> =
        linear_collapse::io::npy::read::<f64, Ix2>(dir.join(format!("{segment}.W_f64.npy")))
            .unwrap();
    let b: Array1<f64> =
        linear_collapse::io::npy::read::<f64, Ix1>(dir.join(format!("{segment}.b_f64.npy")))
            .unwrap();
    assert_close(
        fc.weight().view(),
        w.view(),
        Tol::eps_scaled::<f32>(w.ncols()).magnitude(10.0),
        &format!("{name} W"),
    );
    assert_close(
        fc.bias().unwrap().view(),
        b.view(),
        Tol::eps_scaled::<f32>(w.ncols()).magnitude(10.0),
        &format!("{name} b"),
    );
    // The whole collapsed model against onnxruntime's outputs.
    let inputs: ndarray::ArrayD<f32> =
        linear_collapse::io::npy::read(dir.join("inputs.npy")).unwrap();
    let outputs: ndarray::ArrayD<f32> =
        linear_collapse::io::npy::read(dir.join("outputs.npy")).unwrap();
    let n = inputs.shape()[0];
    let per_in = inputs.len() / n;
    let per_out = outputs.len() / n;
    let xs = inputs.into_shape_with_order((n, per_in)).unwrap();
    let ys = outputs.into_shape_with_order((n, per_out)).unwrap();
    for s in 0..n {
        let x: Vec<f64> = xs.row(s).iter().map(|&v| v as f64).collect();
        let y = forward_model(&small, &x).unwrap();
        for (got, want) in y.iter().zip(ys.row(s)) {
            let want = *want as f64;
            assert!(
                (got - want).abs() <= 1e-5 + 1e-4 * want.abs(),
                "{name} sample {s}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn golden_conv_relu_conv_fc_collapses_only_after_the_relu() {
    // Conv -> ReLU -> (Conv -> Flatten -> Linear): the last three become Flatten -> Linear.
    check_golden_graph("conv_relu_conv_fc", "after_relu", 4);
}

#[test]
fn golden_residual_convconv_fc() {
    check_golden_graph("residual_convconv_fc", "full", 2);
}

#[test]
fn golden_matmul_add_chain() {
    check_golden_graph("matmul_add_chain", "full", 1);
}

#[test]
fn zero_pad_and_avgpool_fold_into_the_conv() {
    use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig, Pad, PadMode};
    let mut rng = StdRng::seed_from_u64(9);
    let m = Model::sequential(
        Shape::chw(3, 9, 10),
        vec![
            Op::Layer(Layer::Pad(
                Pad::new([1, 2, 2, 1], PadMode::Constant(0.0)).unwrap(),
            )),
            conv(&mut rng, 3, 4, 3, Conv2dConfig::default().stride(2), true),
            Op::Layer(Layer::AvgPool2d(
                AvgPool2d::new([2, 2], AvgPool2dConfig::default()).unwrap(),
            )),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &force()).unwrap();
    assert_eq!(reports[0].form, Form::Conv2d, "{}", reports[0]);
    assert_eq!(small.nodes().len(), 1);
    assert_same_function(&m, &small);
}

#[test]
fn avgpool_without_counting_padding_is_not_a_conv() {
    use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig};
    let mut rng = StdRng::seed_from_u64(10);
    let pool = AvgPool2dConfig {
        padding: [1, 1, 1, 1],
        count_include_pad: false,
        ..Default::default()
    };
    let m = Model::sequential(
        Shape::chw(2, 6, 6),
        vec![
            conv(&mut rng, 2, 2, 3, Conv2dConfig::default().padding(1), true),
            Op::Layer(Layer::AvgPool2d(AvgPool2d::new([3, 3], pool).unwrap())),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    assert_ne!(reports[0].form, Form::Conv2d, "{}", reports[0]);
    assert!(
        reports[0].why.contains("count_include_pad"),
        "{}",
        reports[0].why
    );
    assert_same_function(&m, &small);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]
    /// Wherever the rule claims a conv form (second conv unpadded), it is the same function.
    #[test]
    fn composed_convs_equal_the_chain(
        (k1, k2, s1, s2, d1, d2, p1) in (1usize..=3, 1usize..=3, 1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2, 0usize..=2),
        g in proptest::sample::select(vec![1usize, 2]),
        seed in 0u64..1000,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let cfg1 = Conv2dConfig { stride: [s1, s1], dilation: [d1, d1], padding: [p1, p1 + 1, p1, 0], groups: g };
        let cfg2 = Conv2dConfig { stride: [s2, s2], dilation: [d2, d2], padding: [0; 4], groups: g };
        let m = Model::sequential(Shape::chw(2, 14, 13), vec![conv(&mut rng, 2, 4, k1, cfg1, true), conv(&mut rng, 4, 2, k2, cfg2, true)]);
        let m = m.unwrap();
        // Every geometry drawn fits the 14x13 input; a rejection would count against proptest's limit.
        proptest::prop_assume!(m.shapes().is_ok());
        let force = Options { policy: Policy::Force, ..Options::default() };
        let (small, reports) = collapse_model(&m, &force).unwrap();
        proptest::prop_assert_eq!(&reports[0].form, &Form::Conv2d, "{}", reports[0]);
        assert_same_function(&m, &small);
        // by default the one conv replaces the two only when it takes no more multiply-adds
        let (kept, reports) = collapse_model(&m, &Options::default()).unwrap();
        proptest::prop_assert!(reports[0].macs.1 <= reports[0].macs.0, "{}", reports[0]);
        assert_same_function(&m, &kept);
    }
}
