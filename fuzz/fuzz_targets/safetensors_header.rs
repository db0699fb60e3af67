//! Safetensors files from untrusted bytes: `Weights::from_bytes` returns `Ok` or `Err`, never panics,
//! and every tensor of a file it accepts reads (as `f32` and as `f64`) to `Ok` or `Err`; a tensor read
//! once reads again with its own shape, and both widths agree on the shape.
//!
//! The first byte picks the input's form: even, the rest of the input is the file's bytes; odd, a file is
//! built from the input: an 8-byte header length (right, or off, or huge), a JSON header of tensors whose
//! names, dtypes, shapes and data offsets are drawn from extreme and ill-typed values (or made
//! consistent), an optional `__metadata__`, and a data buffer.
//!
//! From the repository root (`fuzz/seeds.sh` writes seeds of the raw form into `fuzz/corpus/`):
//!
//! ```text
//! sh fuzz/seeds.sh
//! cargo +nightly fuzz build safetensors_header
//! cargo +nightly fuzz run safetensors_header -- -max_total_time=180 -rss_limit_mb=2048 -timeout=20
//! ```
//!
//! To see what a reproducer runs: `FUZZ_DUMP=/tmp/w.safetensors cargo +nightly fuzz run
//! safetensors_header ARTIFACT` writes the file it builds there.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use linear_collapse::io::safetensors::Weights;
use serde_json::{json, Map, Value};

const DTYPES: &[(&str, u64)] = &[
    ("F32", 4),
    ("F32", 4),
    ("F64", 8),
    ("F16", 2),
    ("BF16", 2),
    ("I64", 8),
    ("I32", 4),
    ("U8", 1),
    ("BOOL", 1),
    ("F8_E4M3", 1),
];

const EXTREMES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    1 << 16,
    1 << 31,
    1 << 32,
    (1 << 32) + 1,
    1 << 62,
    1 << 63,
    u64::MAX,
    u64::MAX - 1,
    u64::MAX / 4 + 1,
];

fn number(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(match u.int_in_range(0..=5u8)? {
        0..=2 => u.int_in_range(0..=8)?,
        3 | 4 => *u.choose(EXTREMES)?,
        _ => u.arbitrary()?,
    })
}

/// A value for a field that should hold numbers, sometimes of the wrong type.
fn ill_typed(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(u.choose(&[
        Value::Null,
        json!(-1),
        json!(1.5),
        json!("8"),
        json!([-1]),
        json!([[1]]),
        json!({}),
        json!(true),
    ])?
    .clone())
}

fn build(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut header = Map::new();
    let mut end = 0u64; // the data offsets so far, when they are consistent
    for i in 0..u.int_in_range(0..=6u8)? {
        let name = match u.int_in_range(0..=7u8)? {
            0..=4 => format!("t{i}"),
            5 => "t0".into(), // a repeat: the later one wins in the JSON object
            6 => "__metadata__".into(),
            _ => u.arbitrary()?,
        };
        let (dtype, size) = *u.choose(DTYPES)?;
        let dtype = if u.ratio(1, 16)? {
            json!(u.arbitrary::<String>()?)
        } else {
            json!(dtype)
        };
        let rank = u.int_in_range(0..=5usize)?;
        let shape: Vec<u64> = (0..rank).map(|_| number(u)).collect::<Result<_>>()?;
        let bytes = shape
            .iter()
            .try_fold(size, |acc, &d| acc.checked_mul(d))
            .unwrap_or(u64::MAX);
        let offsets = match u.int_in_range(0..=5u8)? {
            0..=2 => {
                let start = end;
                end = end.saturating_add(bytes);
                json!([start, end])
            }
            3 => json!([number(u)?, number(u)?]),
            4 => json!([end]),
            _ => ill_typed(u)?,
        };
        let mut info = Map::new();
        if u.ratio(15, 16)? {
            info.insert("dtype".into(), dtype);
        }
        if u.ratio(15, 16)? {
            let shape = if u.ratio(15, 16)? {
                json!(shape)
            } else {
                ill_typed(u)?
            };
            info.insert("shape".into(), shape);
        }
        if u.ratio(15, 16)? {
            info.insert("data_offsets".into(), offsets);
        }
        header.insert(name, Value::Object(info));
    }
    if u.ratio(1, 4)? {
        let meta = if u.ratio(3, 4)? {
            json!({"format": "pt", "k": u.arbitrary::<String>()?})
        } else {
            ill_typed(u)?
        };
        header.insert("__metadata__".into(), meta);
    }
    let mut text = serde_json::to_vec(&Value::Object(header)).expect("serializes");
    if u.ratio(1, 8)? {
        text.extend(std::iter::repeat_n(b' ', u.int_in_range(1..=7)?));
    }
    if u.ratio(1, 16)? {
        let n = u.int_in_range(0..=text.len())?;
        text.truncate(n);
    }
    let len = match u.int_in_range(0..=9u8)? {
        0..=6 => text.len() as u64,
        7 => (text.len() as u64).wrapping_add(u.int_in_range(1..=8)?),
        8 => (text.len() as u64).saturating_sub(u.int_in_range(1..=8)?),
        _ => *u.choose(EXTREMES)?,
    };
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    // the data: as long as the consistent offsets say (when small), or a few bytes more or less
    let mut data_len = end.min(1 << 16) as usize;
    match u.int_in_range(0..=5u8)? {
        0..=2 => {}
        3 => data_len += u.int_in_range(1..=16usize)?,
        4 => data_len = data_len.saturating_sub(u.int_in_range(1..=16usize)?),
        _ => data_len = u.int_in_range(0..=4096usize)?,
    }
    let fill: u8 = u.arbitrary()?;
    out.extend((0..data_len).map(|i| fill.wrapping_add(i as u8)));
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let Ok(bytes) = build(&mut Unstructured::new(rest)) else {
            return;
        };
        bytes
    };
    if let Some(path) = std::env::var_os("FUZZ_DUMP") {
        std::fs::write(path, &bytes).expect("FUZZ_DUMP is writable");
    }
    let Ok(w) = Weights::from_bytes("fuzz.safetensors".into(), bytes) else {
        return;
    };
    let names = w.names();
    for name in &names {
        let narrow = w.tensor::<f32>(name);
        let wide = w.tensor::<f64>(name);
        assert_eq!(
            narrow.is_ok(),
            wide.is_ok(),
            "'{name}' reads as one width only"
        );
        if let (Ok(a), Ok(b)) = (&narrow, &wide) {
            assert_eq!(a.shape(), b.shape(), "'{name}' has two shapes");
            let again = w.tensor_shaped::<f32>(name, a.shape());
            assert!(
                again.is_ok(),
                "'{name}' does not read with its own shape: {again:?}"
            );
        }
        let _ = w.tensor_shaped::<f32>(name, &[1, 2, 3]);
    }
    let missing = "fuzz: no such tensor";
    if !names.iter().any(|n| n == missing) {
        assert!(w.tensor::<f32>(missing).is_err());
    }
});
