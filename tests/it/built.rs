//! Graphs built in memory (`OnnxModel::build`, what the PyTorch front-end hands the core) and their edits
//! (`pipeline::edits_onnx`): opaque operators of another domain, the `DATA_BATCH` denotation that lets a
//! run start at their output, and pieces cut only where the front-end allows.

use linear_collapse::io::onnx::{Attribute, Graph, Node, OnnxModel, Tensor, Value};
use linear_collapse::pipeline::edits_onnx;
use linear_collapse::Options;
use ndarray::ArrayD;

fn value(name: &str, dims: &[usize], batched: bool) -> Value {
    Value {
        name: name.into(),
        dims: dims.to_vec(),
        float: true,
        batched,
    }
}

fn node(
    name: &str,
    op: &str,
    domain: &str,
    inputs: &[&str],
    attributes: Vec<(String, Attribute)>,
) -> Node {
    Node {
        name: name.into(),
        op_type: op.into(),
        domain: domain.into(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: vec![name.into()],
        attributes,
    }
}

fn weight(name: &str, dims: &[usize], seed: f32) -> (String, Tensor) {
    let n: usize = dims.iter().product();
    let values = (0..n).map(|i| ((i as f32 + seed) * 0.37).sin()).collect();
    (
        name.into(),
        Tensor::Float(ArrayD::from_shape_vec(dims.to_vec(), values).unwrap()),
    )
}

/// x -> Conv 1x1 -> Conv 1x1 -> opaque (custom domain) -> Conv 1x1 -> Conv 1x1 -> y
fn graph(batched: bool) -> Graph {
    let k1 = || vec![("kernel_shape".to_string(), Attribute::Ints(vec![1, 1]))];
    Graph {
        opset: 19,
        inputs: vec![value("x", &[2, 8, 4, 4], true)],
        nodes: vec![
            node("a", "Conv", "", &["x", "a.w"], k1()),
            node("b", "Conv", "", &["a", "b.w"], k1()),
            node("act", "Swish", "linear_collapse.torch", &["b"], vec![]),
            node("c", "Conv", "", &["act", "c.w"], k1()),
            node("d", "Conv", "", &["c", "d.w"], k1()),
        ],
        initializers: vec![
            weight("a.w", &[8, 8, 1, 1], 0.0),
            weight("b.w", &[4, 8, 1, 1], 1.0),
            weight("c.w", &[8, 4, 1, 1], 2.0),
            weight("d.w", &[2, 8, 1, 1], 3.0),
        ],
        values: vec![value("act", &[2, 4, 4, 4], batched)],
        outputs: vec!["d".into()],
    }
}

#[test]
fn a_run_starts_at_an_opaque_output_only_when_its_batch_axis_is_declared() {
    let opts = Options::default();
    let all = |_: &str| true;
    let model = OnnxModel::build(graph(true)).unwrap();
    let (edits, summary) = edits_onnx(&model, &opts, &all, true).unwrap();
    assert_eq!(edits.len(), 2, "{summary}");
    assert_eq!(
        (edits[1].entry.as_str(), edits[1].exit.as_str()),
        ("act", "d")
    );
    assert_eq!(edits[1].nodes, ["c", "d"]);
    // without the denotation the opaque value's first axis may not be the batch: c and d stay
    let model = OnnxModel::build(graph(false)).unwrap();
    let (edits, _) = edits_onnx(&model, &opts, &all, true).unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].nodes, ["a", "b"]);
}

#[test]
fn pieces_are_cut_only_where_the_front_end_allows() {
    let model = OnnxModel::build(graph(true)).unwrap();
    // "b" is not a value the front-end can rewire: the first run has no piece left
    let cut = |name: &str| name != "b";
    let (edits, summary) = edits_onnx(&model, &Options::default(), &cut, true).unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].entry, "act");
    assert_eq!(summary.runs.len(), 2);
    assert_eq!(summary.runs[0].form.to_string(), "unchanged");
}

#[test]
fn a_plan_only_gives_edits_without_ops() {
    let model = OnnxModel::build(graph(true)).unwrap();
    let (edits, summary) = edits_onnx(&model, &Options::default(), &|_| true, false).unwrap();
    assert_eq!(edits.len(), 2);
    assert!(edits.iter().all(|e| e.ops.is_empty()));
    assert!(summary.runs.iter().all(|r| r.max_error.is_none()));
}

#[test]
fn a_built_graph_is_validated_as_a_file_is() {
    let mut g = graph(true);
    g.nodes[1].inputs[0] = "missing".into();
    let err = OnnxModel::build(g).unwrap_err().to_string();
    assert!(err.contains("missing"), "{err}");
    let mut g = graph(true);
    g.nodes[0].op_type = "Convolution".into();
    let err = OnnxModel::build(g).unwrap_err().to_string();
    assert!(err.contains("Convolution"), "{err}");
}
