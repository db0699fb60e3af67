//! The golden fixtures (`tests/data/*/model.onnx` against each `case.json`), round trips, and untrusted
//! input: truncated files, garbage, corrupted bytes, inconsistent or absurd tensors.

use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::Value;

use super::proto::tensor_proto::{DataLocation, DataType};
use super::write::write_model;
use super::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Every `(case name, model path, case.json)` under `tests/data`.
fn fixtures() -> Vec<(String, PathBuf, Value)> {
    let mut cases: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.onnx").is_file())
        .map(|p| {
            let case = std::fs::read_to_string(p.join("case.json")).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                p.join("model.onnx"),
                serde_json::from_str(&case).unwrap(),
            )
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

fn gemm_gemm() -> Vec<u8> {
    std::fs::read(data_dir().join("gemm_gemm/model.onnx")).unwrap()
}

fn graph_mut(m: &mut ModelProto) -> &mut GraphProto {
    m.graph.as_mut().unwrap()
}

/// The error `decode_model` gives for `m` once encoded.
fn decode_err(m: &ModelProto) -> String {
    decode_model(&encode_model(m), "m.onnx")
        .unwrap_err()
        .to_string()
}

#[test]
fn fixtures_match_their_case_json() {
    let cases = fixtures();
    assert_eq!(cases.len(), 12, "expected the 12 golden fixtures");
    for (name, path, case) in cases {
        let onnx = &case["onnx"];
        let model = read_model(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            model.ir_version,
            onnx["ir_version"].as_i64().unwrap(),
            "{name}"
        );
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty())
            .unwrap();
        assert_eq!(opset.version, onnx["opset"].as_i64().unwrap(), "{name}");
        let graph = model.graph.as_ref().unwrap();
        assert_eq!(
            graph.node.len() as u64,
            onnx["node_count"].as_u64().unwrap(),
            "{name}"
        );
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        let expected_ops: Vec<&str> = onnx["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        assert_eq!(ops, expected_ops, "{name}");

        let inits = onnx["initializers"].as_object().unwrap();
        assert_eq!(graph.initializer.len(), inits.len(), "{name}");
        for t in &graph.initializer {
            let shape: Vec<usize> = inits[&t.name]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: initializer {} not in case.json", t.name))
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            if t.data_type == DataType::Int64 as i32 {
                assert_eq!(
                    tensor_ints(t).unwrap().len(),
                    shape.iter().product::<usize>()
                );
            } else {
                assert_eq!(
                    tensor_f32(t).unwrap().shape(),
                    shape.as_slice(),
                    "{name}: {}",
                    t.name
                );
            }
        }
        let dims = value_info_dims(&graph.input[0]).unwrap();
        let expected_dims: Vec<Dim> = case["input"]["onnx_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| match d {
                Value::String(s) => Dim::Symbolic(s.clone()),
                d => Dim::Fixed(d.as_i64().unwrap()),
            })
            .collect();
        assert_eq!(dims, expected_dims, "{name}");
    }
}

#[test]
fn fixture_values_match_the_safetensors_weights() {
    let case = data_dir().join("gemm_gemm");
    let model = read_model(case.join("model.onnx")).unwrap();
    let weights = crate::io::safetensors::Weights::read(case.join("weights.safetensors")).unwrap();
    for t in &model.graph.unwrap().initializer {
        assert_eq!(
            tensor_f32(t).unwrap(),
            weights.tensor::<f32>(&t.name).unwrap(),
            "{}",
            t.name
        );
    }
}

#[test]
fn attributes_of_a_fixture_node() {
    let model = read_model(data_dir().join("conv_s3_p2_fc/model.onnx")).unwrap();
    let conv = &model.graph.as_ref().unwrap().node[0];
    assert_eq!(attr_ints(conv, "strides").unwrap(), Some(&[3i64, 3][..]));
    assert_eq!(attr_ints(conv, "pads").unwrap(), Some(&[2i64, 2, 2, 2][..]));
    assert_eq!(attr_int(conv, "group").unwrap(), Some(1));
    assert_eq!(attr_string(conv, "auto_pad").unwrap(), None);
    let err = attr_int(conv, "pads").unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "node '{}' (Conv), attribute 'pads': is INTS, expected INT",
            conv.name
        )),
        "{err}"
    );
}

#[test]
fn round_trip_is_lossless() {
    for (name, path, _) in fixtures() {
        let model = read_model(&path).unwrap();
        let bytes = encode_model(&model);
        let again = decode_model(&bytes, &name).unwrap();
        assert_eq!(again, model, "{name}");
        assert_eq!(
            encode_model(&again),
            bytes,
            "{name}: encoding is not stable"
        );
    }
}

#[test]
fn write_model_round_trips_and_replaces() {
    let model = decode_model(&gemm_gemm(), "gemm_gemm").unwrap();
    let dir = std::env::temp_dir().join(format!("lc-onnx-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("m.onnx");
    std::fs::write(&out, b"old").unwrap();
    write_model(&out, &model).unwrap();
    assert_eq!(read_model(&out).unwrap(), model);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["m.onnx"], "no temporary file is left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failed_write_leaves_nothing() {
    let model = decode_model(&gemm_gemm(), "gemm_gemm").unwrap();
    let dir = std::env::temp_dir().join(format!("lc-onnx-fail-{}", std::process::id()));
    // The target is a non-empty directory: the rename fails after the bytes were written.
    let target = dir.join("taken.onnx");
    std::fs::create_dir_all(target.join("inside")).unwrap();
    let err = write_model(&target, &model).unwrap_err();
    assert!(
        matches!(err, Error::Io { ref path, .. } if path == &target),
        "{err}"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["taken.onnx"], "the temporary file was removed");
    // A missing directory: nothing can be created.
    assert!(matches!(
        write_model(&dir.join("no/such/dir.onnx"), &model),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_model_names_a_missing_file() {
    let err = read_model("/no/such/model.onnx").unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().starts_with("/no/such/model.onnx"), "{err}");
}

#[test]
fn every_truncation_is_refused() {
    let bytes = gemm_gemm();
    for len in 0..bytes.len() {
        let r = decode_model(&bytes[..len], "cut.onnx");
        assert!(
            r.is_err(),
            "a {len}-byte prefix of {} bytes was accepted",
            bytes.len()
        );
    }
}

#[test]
fn random_garbage_is_refused() {
    let mut rng = StdRng::seed_from_u64(0);
    for _ in 0..2000 {
        let len = rng.gen_range(0..600);
        let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        assert!(decode_model(&bytes, "garbage").is_err(), "{bytes:?}");
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let original = gemm_gemm();
    let mut rng = StdRng::seed_from_u64(0);
    let mut accepted = 0;
    for _ in 0..3000 {
        let mut bytes = original.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..bytes.len());
            bytes[i] = rng.gen();
        }
        if let Ok(m) = decode_model(&bytes, "corrupt") {
            accepted += 1;
            for t in &m.graph.unwrap().initializer {
                let _ = tensor_f32(t);
                let _ = tensor_ints(t);
            }
        }
    }
    // Most single-byte changes land in float data and leave a valid model.
    assert!(accepted > 0);
}

#[test]
fn initializer_whose_data_does_not_match_its_dims_is_refused() {
    let mut m = decode_model(&gemm_gemm(), "gemm_gemm").unwrap();
    graph_mut(&mut m).initializer[0].dims = vec![32, 65];
    assert_eq!(
        decode_err(&m),
        "m.onnx: initializer #0 '0.weight': dims [32, 65] declare 2080 values but raw_data holds \
         8192 bytes (2048 FLOAT values)"
    );
    let t = &graph_mut(&mut m).initializer[0];
    assert!(tensor_f32(t)
        .unwrap_err()
        .to_string()
        .starts_with("tensor '0.weight': dims [32, 65]"));
}

#[test]
fn tensor_checks_name_the_tensor() {
    let good = tensor_from_f32("t", &ArrayD::zeros(vec![2, 3]));
    let cases = [
        (
            TensorProto {
                dims: vec![2, -3],
                ..good.clone()
            },
            "dim 1 of [2, -3] is negative",
        ),
        (
            TensorProto {
                float_data: vec![0.0; 6],
                ..good.clone()
            },
            "both raw_data and float_data hold data",
        ),
        (
            TensorProto {
                raw_data: vec![0; 23].into(),
                ..good.clone()
            },
            "not a whole number of 4-byte FLOAT values",
        ),
        (
            TensorProto {
                raw_data: Default::default(),
                float_data: vec![1.0; 5],
                ..good.clone()
            },
            "float_data holds 5 values",
        ),
        (
            TensorProto {
                data_location: DataLocation::External as i32,
                ..good.clone()
            },
            "external file",
        ),
        (
            TensorProto {
                data_type: 0,
                ..good.clone()
            },
            "data type UNDEFINED is not supported",
        ),
        (
            TensorProto {
                data_type: 99,
                ..good.clone()
            },
            "data type #99 is not supported",
        ),
        (
            TensorProto {
                data_type: DataType::Uint8 as i32,
                ..good.clone()
            },
            "expected FLOAT, DOUBLE, FLOAT16 or BFLOAT16",
        ),
    ];
    for (t, message) in cases {
        let err = tensor_f32(&t).unwrap_err().to_string();
        assert!(
            err.starts_with("tensor 't': ") && err.contains(message),
            "{err}"
        );
    }
}

#[test]
fn double_and_typed_fields_are_read() {
    let double = TensorProto {
        dims: vec![2],
        data_type: DataType::Double as i32,
        double_data: vec![0.5, -2.0],
        ..Default::default()
    };
    assert_eq!(
        tensor_f32(&double).unwrap().as_slice().unwrap(),
        &[0.5, -2.0]
    );
    let raw = TensorProto {
        double_data: vec![],
        raw_data: [0.5f64, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        ..double
    };
    assert_eq!(tensor_f32(&raw).unwrap().as_slice().unwrap(), &[0.5, -2.0]);
    let pads = TensorProto {
        dims: vec![2],
        data_type: DataType::Int64 as i32,
        raw_data: [1i64, -7].iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    };
    assert_eq!(
        tensor_ints(&pads).unwrap().into_raw_vec_and_offset().0,
        vec![1, -7]
    );
    let scalar = tensor_from_f32("s", &ArrayD::from_elem(vec![], 4.5));
    assert_eq!(tensor_f32(&scalar).unwrap().shape(), &[] as &[usize]);
}

#[test]
fn absurd_dims_are_refused_without_allocating() {
    // 2^40 x 2^40 floats (or an overflowing product) would abort the test if anything tried to
    // allocate them; the check runs on the dims alone.
    for dims in [
        vec![1 << 40, 1 << 40],
        vec![i64::MAX, i64::MAX, 2],
        vec![1 << 29, 5],
        vec![0, 1 << 62, 1 << 62],
    ] {
        let t = TensorProto {
            name: "huge".into(),
            dims: dims.clone(),
            data_type: 1,
            ..Default::default()
        };
        let err = tensor_f32(&t).unwrap_err().to_string();
        assert!(
            err.starts_with("tensor 'huge': dims") && err.contains("the limit"),
            "{dims:?}: {err}"
        );
        assert!(tensor_ints(&TensorProto { data_type: 7, ..t }).is_err());
    }
    let mut m = decode_model(&gemm_gemm(), "gemm_gemm").unwrap();
    graph_mut(&mut m).initializer[1].dims = vec![1 << 40, 1 << 40];
    assert!(decode_err(&m).starts_with(
        "m.onnx: initializer #1 '0.bias': dims [1099511627776, 1099511627776] declare more than"
    ));
    // Empty tensors are fine, however large their other dims (within the limit).
    let empty = TensorProto {
        dims: vec![0, 1000, 1000],
        data_type: 1,
        ..Default::default()
    };
    assert_eq!(tensor_f32(&empty).unwrap().shape(), &[0, 1000, 1000]);
}

#[test]
fn graph_checks_name_the_node_or_value() {
    let base = decode_model(&gemm_gemm(), "gemm_gemm").unwrap();

    let mut m = base.clone();
    m.graph = None;
    assert_eq!(decode_err(&m), "m.onnx: the model has no graph");

    let mut m = base.clone();
    m.opset_import.clear();
    assert!(decode_err(&m).contains("imports no version of the default"));

    let mut m = base.clone();
    node(&mut m).input[0] = "nowhere".into();
    let err = decode_err(&m);
    assert!(
        err.starts_with("m.onnx: node #1 '") && err.contains("(Gemm): input #0 'nowhere' is not"),
        "{err}"
    );

    // Nodes in any valid order are sorted: swapped, the two nodes decode back in order.
    let mut m = base.clone();
    graph_mut(&mut m).node.swap(0, 1);
    let bytes = encode_model(&m);
    let sorted = decode_model(&bytes, "m.onnx").expect("sorted");
    assert_eq!(
        sorted.graph.unwrap().node,
        base.graph.as_ref().unwrap().node
    );
    // A cycle cannot be sorted: the node that reads a value produced after it is named.
    let mut m = base.clone();
    let second_out = graph_mut(&mut m).node[1].output[0].clone();
    graph_mut(&mut m).node[0].input[0] = second_out;
    assert!(
        decode_err(&m).starts_with("m.onnx: node #"),
        "{}",
        decode_err(&m)
    );

    let mut m = base.clone();
    let first = graph_mut(&mut m).node[0].output[0].clone();
    node(&mut m).output[0] = first.clone();
    assert!(decode_err(&m).contains(&format!("output '{first}' is already defined")));

    // Gemm takes 2 or 3 inputs (C is optional): an omitted C is fine, a fourth input is not.
    let mut m = base.clone();
    node(&mut m).input[2].clear();
    decode_model(&encode_model(&m), "m.onnx").unwrap();
    let mut m = base.clone();
    node(&mut m).input.push(String::new());
    assert!(
        decode_err(&m).contains("lists 4 inputs; Gemm (version 13) takes 2 to 3"),
        "{}",
        decode_err(&m)
    );

    let mut m = base.clone();
    let a = node(&mut m).attribute[0].clone();
    node(&mut m).attribute.push(a.clone());
    assert!(decode_err(&m).contains(&format!("repeats attribute '{}'", a.name)));

    let mut m = base.clone();
    node(&mut m).op_type.clear();
    assert!(decode_err(&m).contains("has no op type"));

    let mut m = base.clone();
    graph_mut(&mut m).output[0].name = "missing".into();
    assert!(decode_err(&m).starts_with("m.onnx: graph output 'missing': is not"));

    let mut m = base.clone();
    let bad = TensorProto {
        name: "c".into(),
        dims: vec![3],
        data_type: 7,
        int64_data: vec![1],
        ..Default::default()
    };
    node(&mut m).attribute.push(AttributeProto {
        name: "value".into(),
        r#type: 4,
        t: Some(bad),
        ..Default::default()
    });
    assert!(decode_err(&m).contains(
        "attribute 'value', tensor 'c': dims [3] declare 3 values but int64_data holds 1 values"
    ));

    let mut m = base.clone();
    graph_mut(&mut m).initializer[2].data_type = 0;
    assert_eq!(
        decode_err(&m),
        "m.onnx: initializer #2 '1.weight': unknown data type UNDEFINED"
    );

    let mut m = base.clone();
    set_first_dim(&mut graph_mut(&mut m).input[0], -5);
    assert_eq!(decode_err(&m), "m.onnx: graph input 'input': dim 0 is -5");
    assert_eq!(
        value_info_dims(&graph_mut(&mut m).input[0]).unwrap()[0],
        Dim::Unknown
    );
}

/// The second node of `m`'s graph.
fn node(m: &mut ModelProto) -> &mut NodeProto {
    &mut graph_mut(m).node[1]
}

fn set_first_dim(v: &mut ValueInfoProto, n: i64) {
    use proto::tensor_shape_proto::dimension::Value as D;
    use proto::type_proto::Value as T;
    let Some(T::TensorType(t)) = v.r#type.as_mut().unwrap().value.as_mut() else {
        panic!("not a tensor")
    };
    t.shape.as_mut().unwrap().dim[0].value = Some(D::DimValue(n));
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let err = check_model_size(MAX_MODEL_BYTES + 1, "big.onnx")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("big.onnx: the file has 2147483649 bytes"),
        "{err}"
    );
}
