//! The outside oracle for the layers of any rank: `tests/data/layers/cases.json`, one-node ONNX models run
//! in onnxruntime and `torch.nn.functional` calls (`scripts/make_layer_goldens.py`). For each case the layer
//! is rebuilt from its description, and both the reference forward pass and the lowered map must give the
//! runtime's output within the fixtures' rule `|cand - ref| <= 1e-5 + 1e-4 |ref|` (float32 outputs).

use linear_collapse::layer::{
    CoordinateMode, DepthToSpace, DepthToSpaceMode, Expand, Layer, Linear, NearestMode, Permute,
    Reduce, ReduceOp, Resize, ResizeMode, ResizeTarget, ScaleShift, Slice, SpaceToDepth,
};
use linear_collapse::{lower, reference, Shape};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use serde_json::Value;

use crate::common::{assert_close, data_dir, usizes, Tol};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// A ScaleShift parameter: `{"shape": [...], "values": [...]}`, or null.
fn param(v: &Value) -> Option<ArrayD<f64>> {
    (!v.is_null()).then(|| {
        ArrayD::from_shape_vec(IxDyn(&usizes(&v["shape"])), floats(&v["values"])).expect("sized")
    })
}

/// The layer a case describes, in `f64` (its parameters are float32 values, exactly).
fn layer(l: &Value) -> Layer<f64> {
    match text(l, "type") {
        "Linear" => {
            let (o, i) = (
                l["out"].as_u64().expect("out"),
                l["in"].as_u64().expect("in"),
            );
            let w = Array2::from_shape_vec((o as usize, i as usize), floats(&l["weight"]));
            let b = Array1::from(floats(&l["bias"]));
            Linear::new(w.expect("sized"), Some(b))
                .expect("valid")
                .into()
        }
        "Permute" => Permute::new(&usizes(&l["dims"])).expect("valid").into(),
        "Slice" => {
            let n = |k: &str| l[k].as_i64().unwrap_or_else(|| panic!("{k}"));
            Slice::new(
                n("axis") as usize,
                n("start") as usize,
                n("step") as isize,
                n("len") as usize,
            )
            .expect("valid")
            .into()
        }
        "ScaleShift" => ScaleShift::new(param(&l["scale"]), param(&l["shift"]))
            .expect("valid")
            .into(),
        "Expand" => {
            let to = Shape::from_dims(&usizes(&l["shape"])).expect("a rank");
            Expand::new(to).expect("valid").into()
        }
        "Reduce" => {
            let op = match text(l, "op") {
                "Mean" => ReduceOp::Mean,
                "Sum" => ReduceOp::Sum,
                other => panic!("Reduce{other}"),
            };
            let keep = l["keepdims"].as_bool().expect("keepdims");
            Reduce::new(op, usizes(&l["axes"]), keep)
                .expect("valid")
                .into()
        }
        "DepthToSpace" => {
            let mode = match text(l, "mode") {
                "DCR" => DepthToSpaceMode::Dcr,
                "CRD" => DepthToSpaceMode::Crd,
                other => panic!("mode {other}"),
            };
            let b = l["block"].as_u64().expect("block") as usize;
            DepthToSpace::new(b, mode).expect("valid").into()
        }
        "SpaceToDepth" => {
            let b = l["block"].as_u64().expect("block") as usize;
            SpaceToDepth::new(b).expect("valid").into()
        }
        "Resize" => resize(l).into(),
        other => panic!("no layer type {other}"),
    }
}

fn resize(l: &Value) -> Resize {
    let mode = match (text(l, "mode"), l["nearest_mode"].as_str()) {
        ("linear", _) => ResizeMode::Linear,
        ("nearest", Some("round_prefer_floor")) => {
            ResizeMode::Nearest(NearestMode::RoundPreferFloor)
        }
        ("nearest", Some("round_prefer_ceil")) => ResizeMode::Nearest(NearestMode::RoundPreferCeil),
        ("nearest", Some("floor")) => ResizeMode::Nearest(NearestMode::Floor),
        ("nearest", Some("ceil")) => ResizeMode::Nearest(NearestMode::Ceil),
        other => panic!("mode {other:?}"),
    };
    let coordinate = match text(l, "coordinate") {
        "half_pixel" => CoordinateMode::HalfPixel,
        "pytorch_half_pixel" => CoordinateMode::PytorchHalfPixel,
        "align_corners" => CoordinateMode::AlignCorners,
        "asymmetric" => CoordinateMode::Asymmetric,
        "half_pixel_symmetric" => CoordinateMode::HalfPixelSymmetric,
        other => panic!("coordinate {other}"),
    };
    let target = if l["scales"].is_array() {
        ResizeTarget::Scales(floats(&l["scales"]))
    } else {
        ResizeTarget::Sizes(usizes(&l["sizes"]))
    };
    Resize::new(mode, coordinate, target).expect("valid")
}

/// Every case against the runtime's output: the reference forward pass and the lowered map.
#[test]
fn layers_match_onnxruntime_and_pytorch() {
    let path = data_dir().join("layers/cases.json");
    let file = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value = serde_json::from_str(&file).expect("JSON");
    let cases = json["cases"].as_array().expect("cases");
    assert!(cases.len() > 100, "{} cases", cases.len());
    let tol = Tol::elementwise(1e-5, 1e-4);
    for c in cases {
        let name = format!("{} ({})", text(c, "name"), text(c, "oracle"));
        let layer = layer(&c["layer"]);
        let input = Shape::from_dims(&usizes(&c["input_shape"])).expect("a rank");
        let out = Shape::from_dims(&usizes(&c["output_shape"])).expect("a rank");
        let (x, want) = (floats(&c["x"]), Array1::from(floats(&c["y"])));
        let (y, shape) = reference::forward(std::slice::from_ref(&layer), input, &x)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(shape, out, "{name}: reference shape");
        assert_close(
            Array1::from(y).view(),
            want.view(),
            tol,
            &format!("{name}: reference"),
        );
        let map = lower::lower(&layer, input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let y = map.apply(&Array1::from(x));
        assert_close(y.view(), want.view(), tol, &format!("{name}: lowered"));
    }
}
