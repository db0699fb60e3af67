//! Chain specs (JSON) with safetensors weights, through `spec::load` and `pipeline::collapse_chain`
//! under a 64 MiB memory budget: every stage returns `Ok` or `Err`, never panics, and a collapsed chain
//! is one Linear that reads the whole input.
//!
//! The input is structure-aware. The spec is either the seed spec of `tests/data/seed_conv_fc` with
//! fields mutated (layers inserted, dropped, swapped; keys set to extreme or ill-typed values), a spec
//! generated from the schema (layer types and keys of `io::spec`), or raw bytes. The weights are
//! `tests/data/seed_conv_fc/weights.safetensors`, that file with its tensors' shapes or dtypes changed
//! (same data), or a small file generated with the names a spec reads (`<name>.weight`, `.bias`,
//! `.running_mean`, `.running_var`).
//!
//! From the repository root (the input is opaque bytes: no seed corpus is needed):
//!
//! ```text
//! cargo +nightly fuzz build chain_spec
//! cargo +nightly fuzz run chain_spec -- -max_total_time=180 -rss_limit_mb=2048 -timeout=20
//! ```
//!
//! To see what a reproducer runs: `FUZZ_DUMP=/tmp/c cargo +nightly fuzz run chain_spec ARTIFACT` prints
//! the options and the spec on stderr and writes them to `/tmp/c.json` and `/tmp/c.safetensors`.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use linear_collapse::io::safetensors::Weights;
use linear_collapse::io::spec;
use linear_collapse::pipeline::{self, Chain};
use linear_collapse::{Accumulate, Method, Options, Par, Policy};
use serde_json::{json, Map, Value};

static SEED_WEIGHTS: &[u8] = include_bytes!("../../tests/data/seed_conv_fc/weights.safetensors");
static SEED_SPEC: &str = include_str!("../../tests/data/seed_conv_fc/chain.json");

const TYPES: &[&str] = &[
    "Conv2d",
    "Conv1d",
    "Linear",
    "Flatten",
    "BatchNorm1d",
    "BatchNorm2d",
    "AvgPool2d",
    "ZeroPad2d",
    "ConstantPad2d",
    "Identity",
    "Dropout",
    "ReLU",
];

const INT_KEYS: &[&str] = &["stride", "padding", "dilation", "groups", "kernel_size"];
const FLOAT_KEYS: &[&str] = &["eps", "p", "value"];
const BOOL_KEYS: &[&str] = &["ceil_mode", "count_include_pad"];
const PREFIXES: &[&str] = &["0", "1", "2", "3", "bn", "fc"];
const SUFFIXES: &[&str] = &["weight", "bias", "running_mean", "running_var"];

/// Integers for sizes and hyperparameters: small ones, zero, and ones that overflow.
fn uint(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=9u8)? {
        0..=6 => json!(u.int_in_range(0..=6u64)?),
        7 => json!(*u.choose(&[
            13u64,
            64,
            1 << 16,
            1 << 31,
            1 << 32,
            1 << 40,
            1 << 62,
            u64::MAX,
            (u64::MAX >> 1) + 1
        ])?),
        8 => json!(*u.choose(&[-1i64, i64::MIN])?),
        _ => json!(u.arbitrary::<u64>()?),
    })
}

/// A value for an integer key: an int, a list of 0 to 5 of them, or the wrong type.
fn int_value(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=9u8)? {
        0..=3 => uint(u)?,
        4..=7 => {
            let n = u.int_in_range(0..=5)?;
            Value::Array((0..n).map(|_| uint(u)).collect::<Result<_>>()?)
        }
        8 => json!(*u.choose(&[0.5f64, 1.0, -0.0, 1e300])?),
        _ => u
            .choose(&[
                Value::Null,
                json!("2"),
                json!(true),
                json!({}),
                json!([[1]]),
            ])?
            .clone(),
    })
}

fn float_value(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 => json!(*u.choose(&[
            0.0f64,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1e-5,
            1e-300,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE
        ])?),
        1 => json!(u.arbitrary::<f64>()?), // NaN and infinities become null
        2 => json!(u.arbitrary::<f32>()? as f64),
        3 => uint(u)?,
        _ => Value::Null,
    })
}

fn layer(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut l = Map::new();
    if u.ratio(15, 16)? {
        l.insert("type".into(), json!(*u.choose(TYPES)?));
    }
    if u.ratio(7, 8)? {
        l.insert("name".into(), json!(*u.choose(PREFIXES)?));
    }
    for key in INT_KEYS {
        if u.ratio(1, 3)? {
            l.insert(key.to_string(), int_value(u)?);
        }
    }
    for key in FLOAT_KEYS {
        if u.ratio(1, 4)? {
            l.insert(key.to_string(), float_value(u)?);
        }
    }
    for key in BOOL_KEYS {
        if u.ratio(1, 4)? {
            l.insert(
                key.to_string(),
                u.choose(&[json!(true), json!(false), json!(1)])?.clone(),
            );
        }
    }
    Ok(Value::Object(l))
}

fn input_shape(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=7u8)? {
        0..=2 => json!([5, 13, 13]),
        3 | 4 => {
            let n = u.int_in_range(1..=3)?;
            Value::Array(
                (0..n)
                    .map(|_| json!(u.int_in_range(0..=16u64).unwrap_or(1)))
                    .collect(),
            )
        }
        _ => int_value(u)?,
    })
}

/// The seed spec with fields changed.
fn mutated_seed(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut v: Value = serde_json::from_str(SEED_SPEC).expect("the seed spec is JSON");
    for _ in 0..u.int_in_range(0..=6u8)? {
        let choice = u.int_in_range(0..=7u8)?;
        if choice == 0 {
            if let Some(shape) = v["input_shape"].as_array_mut().filter(|s| !s.is_empty()) {
                let k = u.choose_index(shape.len())?;
                shape[k] = uint(u)?;
            }
            continue;
        }
        if choice == 1 {
            v["input_shape"] = input_shape(u)?;
            continue;
        }
        // the layers stay an array of objects here
        let layers = v["layers"].as_array_mut().expect("layers");
        match choice {
            2 => {
                let k = u.int_in_range(0..=layers.len())?;
                let l = layer(u)?;
                layers.insert(k, l);
            }
            _ if layers.is_empty() => {}
            3 => {
                let k = u.choose_index(layers.len())?;
                layers.remove(k);
            }
            4 => {
                let (a, b) = (u.choose_index(layers.len())?, u.choose_index(layers.len())?);
                layers.swap(a, b);
            }
            5 | 6 => {
                let k = u.choose_index(layers.len())?;
                let key = *u.choose(INT_KEYS)?;
                layers[k][key] = int_value(u)?;
            }
            _ => {
                let k = u.choose_index(layers.len())?;
                layers[k]["type"] = json!(*u.choose(TYPES)?);
            }
        }
    }
    Ok(v)
}

fn spec_text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=7u8)? {
        0..=3 => mutated_seed(u)?.to_string(),
        4..=6 => {
            let n = u.int_in_range(0..=6)?;
            let layers: Vec<Value> = (0..n).map(|_| layer(u)).collect::<Result<_>>()?;
            let mut v = json!({"input_shape": input_shape(u)?, "layers": layers});
            if u.ratio(1, 16)? {
                v["layers"] = int_value(u)?;
            }
            v.to_string()
        }
        _ => {
            let len = u.int_in_range(0..=256)?;
            String::from_utf8_lossy(u.bytes(len)?).into_owned()
        }
    })
}

/// Splits the header of a safetensors file from its data.
fn split(bytes: &[u8]) -> (Map<String, Value>, &[u8]) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).expect("the seed header is JSON");
    (header, &bytes[8 + n..])
}

fn join(header: &Map<String, Value>, data: &[u8]) -> Vec<u8> {
    let text = serde_json::to_vec(header).expect("serializes");
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

/// A shape with `numel` elements: the factors of `numel` spread over 1 to 4 dims.
fn reshape(u: &mut Unstructured<'_>, mut numel: u64) -> Result<Vec<u64>> {
    let rank = u.int_in_range(1..=4usize)?;
    let mut dims = vec![1u64; rank];
    let mut p = 2;
    while numel > 1 {
        if numel % p == 0 {
            let k = u.choose_index(rank)?;
            dims[k] *= p;
            numel /= p;
        } else {
            p += 1;
        }
    }
    Ok(dims)
}

/// The seed weights with shapes (keeping each tensor's element count, or not) and dtypes changed.
fn mutated_seed_weights(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let (mut header, data) = split(SEED_WEIGHTS);
    let names: Vec<String> = header
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect();
    for _ in 0..u.int_in_range(1..=3u8)? {
        let name = u.choose(&names)?;
        let info = header.get_mut(name).expect("a tensor");
        let numel: u64 = info["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|d| d.as_u64().expect("dim"))
            .product();
        match u.int_in_range(0..=5u8)? {
            0..=2 => info["shape"] = json!(reshape(u, numel)?),
            3 => info["dtype"] = json!(*u.choose(&["F64", "F16", "I32", "U8"])?),
            4 => {
                // F64 with half the elements: the same bytes, read as doubles
                info["dtype"] = json!("F64");
                info["shape"] = json!(reshape(u, numel / 2)?);
            }
            _ => info["shape"] = json!([u.int_in_range(0..=64u64)?, numel]),
        }
    }
    Ok(join(&header, data))
}

/// A small file with the names a spec reads, each tensor of 0 to 4 small dims.
fn generated_weights(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut header = Map::new();
    let mut data = Vec::new();
    for _ in 0..u.int_in_range(0..=8u8)? {
        let name = format!("{}.{}", u.choose(PREFIXES)?, u.choose(SUFFIXES)?);
        let rank = u.int_in_range(0..=4usize)?;
        let shape: Vec<u64> = (0..rank)
            .map(|_| u.int_in_range(0..=9u64))
            .collect::<Result<_>>()?;
        let numel: u64 = shape.iter().product();
        let (dtype, size) = *u.choose(&[
            ("F32", 4),
            ("F32", 4),
            ("F32", 4),
            ("F64", 8),
            ("F16", 2),
            ("I64", 8),
        ])?;
        let fill: f32 = if u.ratio(1, 8)? { u.arbitrary()? } else { 0.25 };
        let start = data.len();
        for i in 0..numel {
            let v = fill * ((i % 5) as f32 - 2.0);
            match size {
                4 => data.extend_from_slice(&v.to_le_bytes()),
                8 if dtype == "F64" => data.extend_from_slice(&f64::from(v).to_le_bytes()),
                8 => data.extend_from_slice(&(i as i64).to_le_bytes()),
                _ => data.extend_from_slice(&[0, 0x3c]), // f16 1.0
            }
        }
        header.insert(
            name,
            json!({"dtype": dtype, "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    Ok(join(&header, &data))
}

fn weights(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    Ok(match u.int_in_range(0..=5u8)? {
        0..=2 => SEED_WEIGHTS.to_vec(),
        3 => mutated_seed_weights(u)?,
        _ => generated_weights(u)?,
    })
}

fn options(u: &mut Unstructured<'_>) -> Result<Options> {
    Ok(Options {
        method: *u.choose(&[Method::Auto, Method::Dense, Method::Sparse, Method::Im2col])?,
        accumulate: *u.choose(&[Accumulate::Native, Accumulate::F64])?,
        policy: Policy::default(),
        par: Par::Seq,
        memory_budget: 64 << 20,
    })
}

fn build(data: &[u8]) -> Result<(Options, Vec<u8>, String)> {
    let mut u = Unstructured::new(data);
    let opts = options(&mut u)?;
    let weights = weights(&mut u)?;
    let spec = spec_text(&mut u)?;
    if let Some(stem) = std::env::var_os("FUZZ_DUMP") {
        let stem = std::path::PathBuf::from(stem);
        eprintln!(
            "{opts:?}\nspec: {spec}\nwritten to {}.json and .safetensors",
            stem.display()
        );
        std::fs::write(stem.with_extension("json"), &spec).expect("FUZZ_DUMP is writable");
        std::fs::write(stem.with_extension("safetensors"), &weights)
            .expect("FUZZ_DUMP is writable");
    }
    Ok((opts, weights, spec))
}

fuzz_target!(|data: &[u8]| {
    let Ok((opts, weights, spec)) = build(data) else {
        return;
    };
    let Ok(w) = Weights::from_bytes("fuzz.safetensors".into(), weights) else {
        return;
    };
    let Ok((layers, input)) = spec::load(&spec, &w) else {
        return;
    };
    let chain = Chain { layers, input };
    if let Ok(fc) = pipeline::collapse_chain(&chain, &opts) {
        assert_eq!(
            fc.in_features(),
            chain.input.numel(),
            "the collapsed Linear does not read the whole input"
        );
    }
});
