//! `TensorProto` ↔ arrays, and the checks that a tensor's data matches its dims.

use ndarray::{ArrayD, IxDyn};

use super::proto::tensor_proto::{DataLocation, DataType};
use super::proto::TensorProto;
use super::MAX_TENSOR_BYTES;
use crate::{Error, Result};

/// The tensor as an `f32` array: FLOAT from `float_data` or little-endian `raw_data`, DOUBLE (from
/// `double_data` or `raw_data`) rounded to `f32`, FLOAT16 and BFLOAT16 (from their bits in `int32_data` or
/// `raw_data`) widened.
///
/// # Errors
/// [`Error::Format`] naming the tensor when it is of another type, its dims are negative or declare more
/// than [`MAX_TENSOR_BYTES`](super::MAX_TENSOR_BYTES), or its data does not hold exactly as many values
/// as its dims declare.
pub(crate) fn tensor_f32(t: &TensorProto) -> Result<ArrayD<f32>> {
    let fail = |m: String| Error::format(format!("tensor '{}'", t.name), m);
    let dtype = DataType::try_from(t.data_type);
    let floats = [
        DataType::Float,
        DataType::Double,
        DataType::Float16,
        DataType::Bfloat16,
    ];
    if !dtype.is_ok_and(|d| floats.contains(&d)) {
        return Err(fail(unexpected_type(
            t,
            "FLOAT, DOUBLE, FLOAT16 or BFLOAT16",
        )));
    }
    let shape = checked_shape(t).map_err(fail)?;
    let raw = !t.raw_data.is_empty();
    let values: Vec<f32> = match dtype {
        Ok(DataType::Float) if raw => le_words::<4>(&t.raw_data).map(f32::from_le_bytes).collect(),
        Ok(DataType::Float) => t.float_data.clone(),
        Ok(DataType::Double) if raw => le_words::<8>(&t.raw_data)
            .map(|w| f64::from_le_bytes(w) as f32)
            .collect(),
        Ok(DataType::Double) => t.double_data.iter().map(|&v| v as f32).collect(),
        Ok(half @ (DataType::Float16 | DataType::Bfloat16)) => {
            let widen = if half == DataType::Float16 {
                f16_to_f32
            } else {
                bf16_to_f32
            };
            let bits: Vec<u16> = if raw {
                le_words::<2>(&t.raw_data).map(u16::from_le_bytes).collect()
            } else {
                t.int32_data.iter().map(|&v| v as u16).collect()
            };
            bits.into_iter().map(widen).collect()
        }
        _ => unreachable!("checked above"),
    };
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| fail(e.to_string()))
}

/// An integer or boolean tensor (INT8 to INT64, UINT8 to UINT64, BOOL) as an `i64` array; UINT64 values
/// past `i64::MAX` are refused.
///
/// # Errors
/// [`Error::Format`] naming the tensor when it is of another type or its data does not match its dims.
pub(crate) fn tensor_ints(t: &TensorProto) -> Result<ArrayD<i64>> {
    let fail = |m: String| Error::format(format!("tensor '{}'", t.name), m);
    use DataType as D;
    let ints = [
        D::Int64,
        D::Int32,
        D::Int16,
        D::Int8,
        D::Uint64,
        D::Uint32,
        D::Uint16,
        D::Uint8,
        D::Bool,
    ];
    if !DataType::try_from(t.data_type).is_ok_and(|d| ints.contains(&d)) {
        return Err(fail(unexpected_type(t, "an integer or BOOL type")));
    }
    let shape = checked_shape(t).map_err(fail)?;
    let count: usize = shape.iter().product();
    let raw = !t.raw_data.is_empty();
    let values: Vec<i64> = match DataType::try_from(t.data_type) {
        Ok(D::Int64) if raw => le_words::<8>(&t.raw_data).map(i64::from_le_bytes).collect(),
        Ok(D::Int64) => t.int64_data.clone(),
        Ok(D::Int32) if raw => le_words::<4>(&t.raw_data)
            .map(|w| i32::from_le_bytes(w) as i64)
            .collect(),
        Ok(D::Int16) if raw => le_words::<2>(&t.raw_data)
            .map(|w| i16::from_le_bytes(w) as i64)
            .collect(),
        Ok(D::Uint16) if raw => le_words::<2>(&t.raw_data)
            .map(|w| u16::from_le_bytes(w) as i64)
            .collect(),
        Ok(D::Int8) if raw => t.raw_data.iter().map(|&b| b as i8 as i64).collect(),
        Ok(D::Uint8 | D::Bool) if raw => t.raw_data.iter().map(|&b| b as i64).collect(),
        Ok(D::Int32 | D::Int16 | D::Int8 | D::Uint16 | D::Uint8 | D::Bool) => {
            t.int32_data.iter().map(|&v| v as i64).collect()
        }
        Ok(D::Uint32) if raw => le_words::<4>(&t.raw_data)
            .map(|w| u32::from_le_bytes(w) as i64)
            .collect(),
        Ok(D::Uint64) if raw => le_words::<8>(&t.raw_data)
            .map(|w| i64::try_from(u64::from_le_bytes(w)).unwrap_or(-1))
            .collect(),
        Ok(D::Uint32 | D::Uint64) => t
            .uint64_data
            .iter()
            .map(|&v| i64::try_from(v).unwrap_or(-1))
            .collect(),
        _ => unreachable!("checked above"),
    };
    if t.data_type == D::Uint64 as i32 && values.contains(&-1) {
        return Err(fail("a UINT64 value does not fit in INT64".into()));
    }
    if values.len() != count {
        return Err(fail(format!(
            "dims {:?} declare {count} values but the tensor holds {}",
            t.dims,
            values.len()
        )));
    }
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| fail(e.to_string()))
}

/// IEEE half precision bits to `f32`.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // subnormal: normalise
            let shift = f.leading_zeros() - 21;
            let f = (f << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (f << 13)
        }
        (31, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 bits (the high half of an `f32`) to `f32`.
fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

fn unexpected_type(t: &TensorProto, expected: &str) -> String {
    format!(
        "data type {} is not supported here (expected {expected})",
        type_name(t.data_type)
    )
}

/// A FLOAT tensor named `name` holding `a`, its data in `raw_data` (little-endian, row-major).
pub(crate) fn tensor_from_f32(name: &str, a: &ArrayD<f32>) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: a.shape().iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: a.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// Checks `t`'s dims and data (see [`check_tensor`]) and returns its shape.
fn checked_shape(t: &TensorProto) -> std::result::Result<Vec<usize>, String> {
    check_tensor(t)?;
    // check_tensor bounds the product of the non-zero dims, so each fits in usize.
    Ok(t.dims.iter().map(|&d| d as usize).collect())
}

/// Checks that `t`'s dims are non-negative and declare at most [`MAX_TENSOR_BYTES`], that its data is
/// in the file, and, for the types whose values this module reads (FLOAT, DOUBLE, INT32, INT64), that
/// it holds exactly as many values as its dims declare. Allocates nothing.
pub(super) fn check_tensor(t: &TensorProto) -> std::result::Result<(), String> {
    if t.data_location == DataLocation::External as i32 {
        return Err(
            "its data is in an external file, which only a model read from a file \
                    (beside its data) can use"
                .into(),
        );
    }
    if t.segment.is_some() {
        return Err("it is split into segments, which is not supported".into());
    }
    let elem = element_bytes(t.data_type)
        .ok_or_else(|| format!("unknown data type {}", type_name(t.data_type)))?;
    let count = element_count(&t.dims, elem)?;
    let Some((held, field)) = stored_values(t)? else {
        return Ok(());
    };
    if held != count {
        let detail = if field == "raw_data" {
            format!(
                "{} bytes ({held} {} values)",
                t.raw_data.len(),
                type_name(t.data_type)
            )
        } else {
            format!("{held} values")
        };
        return Err(format!(
            "dims {:?} declare {count} values but {field} holds {detail}",
            t.dims
        ));
    }
    Ok(())
}

/// The number of elements `dims` declare, refusing negative dims and, before anything is allocated,
/// tensors over [`MAX_TENSOR_BYTES`]. As in ndarray, the product of the non-zero dims is bounded even
/// when a zero dim makes the tensor empty.
fn element_count(dims: &[i64], elem_bytes: u64) -> std::result::Result<u64, String> {
    let limit = MAX_TENSOR_BYTES / elem_bytes;
    let mut nonzero: u64 = 1;
    for (axis, &d) in dims.iter().enumerate() {
        if d < 0 {
            return Err(format!("dim {axis} of {dims:?} is negative"));
        }
        if d > 0 {
            nonzero = nonzero
                .checked_mul(d as u64)
                .filter(|&n| n <= limit)
                .ok_or_else(|| {
                    format!("dims {dims:?} declare more than {MAX_TENSOR_BYTES} bytes, the limit")
                })?;
        }
    }
    Ok(if dims.contains(&0) { 0 } else { nonzero })
}

/// How many values `t` holds and in which field, for the types whose length is checked; `None` for the
/// others.
fn stored_values(t: &TensorProto) -> std::result::Result<Option<(u64, &'static str)>, String> {
    let (typed, field) = match DataType::try_from(t.data_type) {
        Ok(DataType::Float) => (t.float_data.len(), "float_data"),
        Ok(DataType::Double) => (t.double_data.len(), "double_data"),
        Ok(DataType::Int32) => (t.int32_data.len(), "int32_data"),
        Ok(DataType::Int64) => (t.int64_data.len(), "int64_data"),
        _ => return Ok(None),
    };
    if t.raw_data.is_empty() {
        return Ok(Some((typed as u64, field)));
    }
    if typed != 0 {
        return Err(format!("both raw_data and {field} hold data"));
    }
    let elem = element_bytes(t.data_type).unwrap_or(1) as usize;
    if !t.raw_data.len().is_multiple_of(elem) {
        return Err(format!(
            "raw_data holds {} bytes, not a whole number of {elem}-byte {} values",
            t.raw_data.len(),
            type_name(t.data_type)
        ));
    }
    Ok(Some(((t.raw_data.len() / elem) as u64, "raw_data")))
}

/// Bytes per element in `raw_data` (1 for strings and sub-byte types, whose size is only bounded); `None`
/// for UNDEFINED and unknown types.
fn element_bytes(data_type: i32) -> Option<u64> {
    use DataType as D;
    Some(match D::try_from(data_type).ok()? {
        D::Undefined => return None,
        D::Complex128 => 16,
        D::Double | D::Int64 | D::Uint64 | D::Complex64 => 8,
        D::Float | D::Int32 | D::Uint32 => 4,
        D::Int16 | D::Uint16 | D::Float16 | D::Bfloat16 => 2,
        _ => 1,
    })
}

/// The ONNX name of a data type (`FLOAT`), or its number when unknown.
pub(crate) fn type_name(data_type: i32) -> String {
    match DataType::try_from(data_type) {
        Ok(t) => t.as_str_name().to_string(),
        Err(_) => format!("#{data_type}"),
    }
}

/// `bytes` as little-endian words of `N` bytes (a trailing partial word, already refused by
/// [`check_tensor`], is ignored).
fn le_words<const N: usize>(bytes: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    bytes.chunks_exact(N).map(|c| {
        let mut w = [0; N];
        w.copy_from_slice(c);
        w
    })
}

#[cfg(test)]
mod half_tests {
    use super::{bf16_to_f32, f16_to_f32};

    #[test]
    fn half_precision_bits_widen_exactly() {
        for (bits, v) in [
            (0x3c00, 1.0f32),
            (0xc000, -2.0),
            (0x3555, 0.333_251_95),
            (0x0001, 5.960_464_5e-8),
            (0x7bff, 65504.0),
            (0x0000, 0.0),
        ] {
            assert_eq!(f16_to_f32(bits), v, "{bits:#x}");
        }
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc040), -3.0);
    }
}
