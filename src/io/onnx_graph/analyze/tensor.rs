//! Constant tensors while folding: floats as `f32`, integers and booleans as `i64`, each with its ONNX
//! data type (what `Cast`, `Shape` and the comparisons produce).

use ndarray::{ArrayD, IxDyn};

use crate::io::onnx::{tensor_f32, tensor_ints, TensorProto};
use crate::Result;

/// ONNX `TensorProto.DataType` numbers used here.
pub(crate) mod dtype {
    /// `FLOAT`.
    pub(crate) const FLOAT: i32 = 1;
    /// `INT32`.
    pub(crate) const INT32: i32 = 6;
    /// `INT64`.
    pub(crate) const INT64: i32 = 7;
    /// `BOOL`.
    pub(crate) const BOOL: i32 = 9;
    /// `FLOAT16`.
    pub(crate) const FLOAT16: i32 = 10;
    /// `DOUBLE`.
    pub(crate) const DOUBLE: i32 = 11;
    /// `BFLOAT16`.
    pub(crate) const BFLOAT16: i32 = 16;

    /// FLOAT, DOUBLE, FLOAT16 or BFLOAT16.
    pub(crate) fn is_float(t: i32) -> bool {
        matches!(t, FLOAT | DOUBLE | FLOAT16 | BFLOAT16)
    }

    /// The signed and unsigned integers and BOOL.
    pub(crate) fn is_int(t: i32) -> bool {
        matches!(t, 2..=7 | 9 | 12 | 13)
    }
}

/// The values of a constant tensor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    /// FLOAT, DOUBLE, FLOAT16, BFLOAT16.
    F32(ArrayD<f32>),
    /// Integers and BOOL (0 or 1).
    I64(ArrayD<i64>),
}

/// A constant tensor: its ONNX data type and values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tensor {
    pub(crate) dtype: i32,
    pub(crate) data: Data,
}

impl Tensor {
    /// A float tensor of ONNX type FLOAT.
    pub(crate) fn f32(a: ArrayD<f32>) -> Self {
        Tensor {
            dtype: dtype::FLOAT,
            data: Data::F32(a),
        }
    }

    /// An INT64 tensor.
    pub(crate) fn i64(a: ArrayD<i64>) -> Self {
        Tensor {
            dtype: dtype::INT64,
            data: Data::I64(a),
        }
    }

    /// A 1-d INT64 tensor.
    pub(crate) fn i64_vec(v: Vec<i64>) -> Self {
        let n = v.len();
        Tensor::i64(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-d"))
    }

    /// Integer data of `dtype` (INT64, INT32, BOOL, ...).
    pub(crate) fn ints_of(dtype: i32, a: ArrayD<i64>) -> Self {
        Tensor {
            dtype,
            data: Data::I64(a),
        }
    }

    /// Decodes an initializer or a tensor attribute.
    ///
    /// # Errors
    /// [`crate::Error::Format`] naming the tensor when its type is not numeric or its data does not match
    /// its dims.
    pub(crate) fn from_proto(t: &TensorProto) -> Result<Self> {
        let data = if dtype::is_float(t.data_type) {
            Data::F32(tensor_f32(t)?)
        } else {
            Data::I64(tensor_ints(t)?)
        };
        Ok(Tensor {
            dtype: t.data_type,
            data,
        })
    }

    /// The dimensions.
    pub(crate) fn shape(&self) -> &[usize] {
        match &self.data {
            Data::F32(a) => a.shape(),
            Data::I64(a) => a.shape(),
        }
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// The values as integers (floats truncated toward zero, as `Cast` does), row-major.
    pub(crate) fn to_i64(&self) -> ArrayD<i64> {
        match &self.data {
            Data::I64(a) => a.clone(),
            Data::F32(a) => a.mapv(|v| if v.is_finite() { v as i64 } else { 0 }),
        }
    }

    /// The tensor as an initializer named `name` (its values in `raw_data`); `None` for a data type not
    /// written here.
    pub(crate) fn to_proto(&self, name: &str) -> Option<TensorProto> {
        let raw: Vec<u8> = match (&self.data, self.dtype) {
            (Data::F32(a), dtype::FLOAT) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            (Data::F32(a), dtype::DOUBLE) => {
                a.iter().flat_map(|&v| (v as f64).to_le_bytes()).collect()
            }
            (Data::I64(a), dtype::INT64) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            (Data::I64(a), dtype::INT32) => {
                a.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect()
            }
            (Data::I64(a), dtype::BOOL | 2 | 3) => a.iter().map(|&v| v as u8).collect(),
            _ => return None,
        };
        Some(TensorProto {
            name: name.to_string(),
            dims: self.shape().iter().map(|&d| d as i64).collect(),
            data_type: self.dtype,
            raw_data: raw.into(),
            ..Default::default()
        })
    }

    /// The values as `f32`, row-major.
    pub(crate) fn to_f32(&self) -> ArrayD<f32> {
        match &self.data {
            Data::F32(a) => a.clone(),
            Data::I64(a) => a.mapv(|v| v as f32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_convert_as_cast_does() {
        let t = Tensor::f32(ndarray::arr1(&[1.9f32, -1.9, f32::NAN]).into_dyn());
        assert_eq!(t.to_i64().as_slice().unwrap(), &[1, -1, 0]);
        let i = Tensor::i64_vec(vec![3, -4]);
        assert_eq!(i.to_f32().as_slice().unwrap(), &[3.0, -4.0]);
        assert_eq!((i.shape(), i.len()), (&[2usize][..], 2));
    }
}
