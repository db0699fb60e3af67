//! Structural re-parameterization, written by hand: ACNet, DBB, ExpandNets, RepVGG with groups and a
//! MobileOne depthwise block each become the one convolution their papers fuse them into, with the
//! groups that are exact, under the default never-costlier policy.

use linear_collapse::form::Form;
use linear_collapse::graph::{Model, Op, Src};
use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig, BatchNorm, Conv2d, Conv2dConfig, Layer};
use linear_collapse::verify::forward_model;
use linear_collapse::{collapse_model, Options, Shape};
use ndarray::{Array1, Array4};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::common::{assert_close, Tol};

fn conv(
    rng: &mut StdRng,
    c_in: usize,
    c_out: usize,
    k: [usize; 2],
    cfg: Conv2dConfig,
    bias: bool,
) -> Op<f64> {
    let w = Array4::from_shape_simple_fn((c_out, c_in / cfg.groups, k[0], k[1]), || {
        rng.gen_range(-0.5..0.5)
    });
    let b = bias.then(|| Array1::from_shape_simple_fn(c_out, || rng.gen_range(-0.5..0.5)));
    Op::Layer(Layer::Conv2d(Conv2d::new(w, b, cfg).unwrap()))
}

fn bn(rng: &mut StdRng, c: usize) -> Op<f64> {
    let mut r = |lo: f64, hi: f64| Array1::from_shape_simple_fn(c, || rng.gen_range(lo..hi));
    let (mean, var, gamma, beta) = (r(-0.5, 0.5), r(0.5, 2.0), r(0.5, 1.5), r(-0.2, 0.2));
    Op::Layer(Layer::BatchNorm(
        BatchNorm::new(mean, var, 1e-5, Some(gamma), Some(beta)).unwrap(),
    ))
}

fn pad(p: [usize; 4], groups: usize) -> Conv2dConfig {
    Conv2dConfig {
        padding: p,
        groups,
        ..Default::default()
    }
}

/// `model` collapses to exactly one convolution with these kernel, padding and groups, computing the
/// same function, with fewer parameters and multiply-adds.
fn assert_one_conv(model: &Model<f64>, kernel: [usize; 2], padding: [usize; 4], groups: usize) {
    let (small, reports) = collapse_model(model, &Options::default()).unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!(r.form, Form::Conv2d, "{r}");
    assert!(r.params.1 < r.params.0 && r.macs.1 < r.macs.0, "{r}");
    let [node] = small.nodes() else {
        panic!("{:?}", small.nodes())
    };
    let Op::Layer(Layer::Conv2d(c)) = &node.op else {
        panic!("{:?}", node.op)
    };
    let g = c.geometry();
    assert_eq!(
        (g.kernel, g.padding, c.groups()),
        (kernel, padding, groups),
        "{r}"
    );
    let mut rng = StdRng::seed_from_u64(9);
    for _ in 0..3 {
        let x: Vec<f64> = (0..model.input_shape().numel())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let (a, b) = (
            forward_model(model, &x).unwrap(),
            forward_model(&small, &x).unwrap(),
        );
        let (a, b) = (Array1::from(a), Array1::from(b));
        assert_close(
            b.view(),
            a.view(),
            Tol::eps_scaled::<f64>(x.len()).magnitude(1e2),
            "fused vs branches",
        );
    }
}

/// ACNet (Ding et al. 2019): a 3x3, a 1x3 and a 3x1 branch, each with its BatchNorm, summed: one 3x3.
#[test]
fn acnet_branches_become_one_3x3() {
    let mut rng = StdRng::seed_from_u64(1);
    let c = 4;
    let mut m = Model::new(Shape::chw(c, 9, 8));
    let sq = m
        .push(
            "square",
            conv(&mut rng, c, c, [3, 3], pad([1; 4], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let sq = m.push("square.bn", bn(&mut rng, c), vec![sq]).unwrap();
    let hor = m
        .push(
            "hor",
            conv(&mut rng, c, c, [1, 3], pad([0, 1, 0, 1], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let hor = m.push("hor.bn", bn(&mut rng, c), vec![hor]).unwrap();
    let ver = m
        .push(
            "ver",
            conv(&mut rng, c, c, [3, 1], pad([1, 0, 1, 0], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let ver = m.push("ver.bn", bn(&mut rng, c), vec![ver]).unwrap();
    m.push("sum", Op::Add, vec![sq, hor, ver]).unwrap();
    assert_one_conv(&m, [3, 3], [1; 4], 1);
}

/// DBB (Ding et al. 2021), with the branches that stay exact under zero padding: a kxk conv, a 1x1 conv,
/// a 1x1 (no bias) then kxk, and a 1x1 (no bias) then a kxk average (counting the padding), each with its
/// BatchNorm, summed: one kxk.
#[test]
fn dbb_branches_become_one_kxk() {
    let mut rng = StdRng::seed_from_u64(2);
    let (c, k) = (4, 3);
    let mut m = Model::new(Shape::chw(c, 8, 8));
    let kxk = m
        .push(
            "kxk",
            conv(&mut rng, c, c, [k, k], pad([1; 4], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let kxk = m.push("kxk.bn", bn(&mut rng, c), vec![kxk]).unwrap();
    let one = m
        .push(
            "1x1",
            conv(&mut rng, c, c, [1, 1], pad([0; 4], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let one = m.push("1x1.bn", bn(&mut rng, c), vec![one]).unwrap();
    let a = m
        .push(
            "1x1_kxk.idconv",
            conv(&mut rng, c, c, [1, 1], pad([0; 4], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let a = m
        .push(
            "1x1_kxk.conv2",
            conv(&mut rng, c, c, [k, k], pad([1; 4], 1), false),
            vec![a],
        )
        .unwrap();
    let a = m.push("1x1_kxk.bn2", bn(&mut rng, c), vec![a]).unwrap();
    let b = m
        .push(
            "1x1_avg.conv",
            conv(&mut rng, c, c, [1, 1], pad([0; 4], 1), false),
            vec![Src::Input],
        )
        .unwrap();
    let cfg = AvgPool2dConfig {
        stride: Some([1, 1]),
        padding: [1; 4],
        ceil_mode: false,
        count_include_pad: true,
    };
    let avg = Op::Layer(Layer::AvgPool2d(AvgPool2d::new([k, k], cfg).unwrap()));
    let b = m.push("1x1_avg.avg", avg, vec![b]).unwrap();
    let b = m.push("1x1_avg.bn", bn(&mut rng, c), vec![b]).unwrap();
    m.push("sum", Op::Add, vec![kxk, one, a, b]).unwrap();
    assert_one_conv(&m, [k, k], [1; 4], 1);
}

/// ExpandNets (Guo et al. 2020): a 3x3 conv expanded into 1x1 (C -> 4C, no bias) -> 3x3 (4C -> 4C) ->
/// 1x1 (4C -> C) with no nonlinearity between: one 3x3 again.
#[test]
fn expandnets_chain_becomes_one_3x3() {
    let mut rng = StdRng::seed_from_u64(3);
    let c = 3;
    let m = Model::sequential(
        Shape::chw(c, 10, 9),
        vec![
            conv(&mut rng, c, 4 * c, [1, 1], pad([0; 4], 1), false),
            conv(&mut rng, 4 * c, 4 * c, [3, 3], pad([1; 4], 1), true),
            conv(&mut rng, 4 * c, c, [1, 1], pad([0; 4], 1), true),
        ],
    )
    .unwrap();
    assert_one_conv(&m, [3, 3], [1; 4], 1);
}

/// RepVGG-B1g4's grouped block: a grouped 3x3 and a grouped 1x1, each with its BatchNorm, and the
/// identity BatchNorm: one 3x3 with the same 4 groups.
#[test]
fn grouped_repvgg_block_stays_grouped() {
    let mut rng = StdRng::seed_from_u64(4);
    let (c, g) = (8, 4);
    let mut m = Model::new(Shape::chw(c, 7, 7));
    let a = m
        .push(
            "3x3",
            conv(&mut rng, c, c, [3, 3], pad([1; 4], g), false),
            vec![Src::Input],
        )
        .unwrap();
    let a = m.push("3x3.bn", bn(&mut rng, c), vec![a]).unwrap();
    let b = m
        .push(
            "1x1",
            conv(&mut rng, c, c, [1, 1], pad([0; 4], g), false),
            vec![Src::Input],
        )
        .unwrap();
    let b = m.push("1x1.bn", bn(&mut rng, c), vec![b]).unwrap();
    let i = m.push("id.bn", bn(&mut rng, c), vec![Src::Input]).unwrap();
    m.push("sum", Op::Add, vec![a, b, i]).unwrap();
    assert_one_conv(&m, [3, 3], [1; 4], g);
}

/// MobileOne's depthwise block: three depthwise 3x3 branches and a depthwise 1x1 ("scale") branch, each
/// with its BatchNorm, and the identity BatchNorm: one depthwise 3x3, never a dense kernel.
#[test]
fn mobileone_depthwise_block_stays_depthwise() {
    let mut rng = StdRng::seed_from_u64(5);
    let c = 6;
    let mut m = Model::new(Shape::chw(c, 8, 8));
    let mut branches = Vec::new();
    for i in 0..3 {
        let x = m
            .push(
                format!("dw{i}"),
                conv(&mut rng, c, c, [3, 3], pad([1; 4], c), false),
                vec![Src::Input],
            )
            .unwrap();
        branches.push(
            m.push(format!("dw{i}.bn"), bn(&mut rng, c), vec![x])
                .unwrap(),
        );
    }
    let s = m
        .push(
            "scale",
            conv(&mut rng, c, c, [1, 1], pad([0; 4], c), false),
            vec![Src::Input],
        )
        .unwrap();
    branches.push(m.push("scale.bn", bn(&mut rng, c), vec![s]).unwrap());
    branches.push(
        m.push("skip.bn", bn(&mut rng, c), vec![Src::Input])
            .unwrap(),
    );
    m.push("sum", Op::Add, branches).unwrap();
    assert_one_conv(&m, [3, 3], [1; 4], c);
}

/// MobileNet-v2's two 1x1 convs around a bottleneck (32 -> 16 -> 96) stay two: one 32 -> 96 conv would
/// take more multiply-adds.
#[test]
fn a_bottleneck_of_two_1x1_convs_stays_two() {
    let mut rng = StdRng::seed_from_u64(6);
    let m = Model::sequential(
        Shape::chw(32, 4, 4),
        vec![
            conv(&mut rng, 32, 16, [1, 1], pad([0; 4], 1), false),
            bn(&mut rng, 16),
            conv(&mut rng, 16, 96, [1, 1], pad([0; 4], 1), false),
        ],
    )
    .unwrap();
    let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
    // the BatchNorm still folds into the first conv; the two convs stay
    assert_eq!(small.nodes().len(), 2, "{reports:?}");
    assert!(reports.iter().all(|r| r.macs.1 <= r.macs.0), "{reports:?}");
}
