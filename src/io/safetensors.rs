//! Tensors by name from a `.safetensors` file (a PyTorch `state_dict` saved with `safetensors.torch`).

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use crate::{Error, Result, Scalar};

/// The contents of a safetensors file, parsed once and kept in memory.
#[derive(Clone, Debug)]
pub struct Weights {
    source: String,
    bytes: Vec<u8>,
}

impl Weights {
    /// Reads and validates a file.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read, [`Error::Format`] when it is not a valid safetensors file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path.display().to_string(), bytes)
    }

    /// Validates bytes already in memory; `source` names them in errors.
    ///
    /// # Errors
    /// [`Error::Format`] when the bytes are not a valid safetensors file (truncated, bad header, offsets
    /// out of range).
    ///
    /// ```
    /// use linear_collapse::io::safetensors::Weights;
    /// let err = Weights::from_bytes("junk".into(), b"not a safetensors file".to_vec()).unwrap_err();
    /// assert!(err.to_string().starts_with("junk"));
    /// ```
    pub fn from_bytes(source: String, bytes: Vec<u8>) -> Result<Self> {
        check_offsets(&bytes).map_err(|m| Error::format(source.clone(), m))?;
        SafeTensors::deserialize(&bytes).map_err(|e| Error::Format {
            context: source.clone(),
            source: Box::new(e),
        })?;
        Ok(Weights { source, bytes })
    }

    fn parsed(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).expect("validated in from_bytes")
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.parsed().names().into_iter().cloned().collect();
        n.sort();
        n
    }

    /// The tensor `name` as an array of `T` (from `f32`, `f64`, `f16`-free float files).
    ///
    /// # Errors
    /// [`Error::Format`] naming the tensor when it is missing or not a float tensor.
    pub fn tensor<T: Scalar>(&self, name: &str) -> Result<ArrayD<T>> {
        let st = self.parsed();
        let view = st.tensor(name).map_err(|_| {
            Error::format(
                format!("{}: tensor '{name}'", self.source),
                format!("not found (the file has {})", self.names().join(", ")),
            )
        })?;
        to_array(&view).map_err(|m| Error::format(format!("{}: tensor '{name}'", self.source), m))
    }

    /// The tensor `name`, checked to have exactly `shape`.
    ///
    /// # Errors
    /// As [`Weights::tensor`], and [`Error::Format`] naming the tensor and both shapes on a mismatch.
    pub fn tensor_shaped<T: Scalar>(&self, name: &str, shape: &[usize]) -> Result<ArrayD<T>> {
        let t = self.tensor(name)?;
        if t.shape() != shape {
            return Err(Error::format(
                format!("{}: tensor '{name}'", self.source),
                format!("has shape {:?}, expected {shape:?}", t.shape()),
            ));
        }
        Ok(t)
    }
}

fn to_array<T: Scalar>(view: &TensorView<'_>) -> std::result::Result<ArrayD<T>, String> {
    let data = view.data();
    let values: Vec<T> = match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| T::narrow(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| T::narrow(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
            .collect(),
        other => {
            return Err(format!(
                "dtype {other:?} is not supported (use float32 or float64)"
            ))
        }
    };
    ArrayD::from_shape_vec(IxDyn(view.shape()), values).map_err(|e| e.to_string())
}

/// Checks the header's length and every tensor's `data_offsets` against the file's size with checked
/// arithmetic, before the `safetensors` crate sums them unchecked (an offset near `u64::MAX` overflows
/// there, a panic in a debug build).
fn check_offsets(bytes: &[u8]) -> std::result::Result<(), String> {
    let Some(head) = bytes.get(..8) else {
        return Ok(()); // too short: the crate says so
    };
    let n = u64::from_le_bytes(head.try_into().expect("8 bytes"));
    let Some(header) = usize::try_from(n)
        .ok()
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?))
    else {
        return Err(format!(
            "the header is {n} bytes long but the file has {} after the length",
            bytes.len() - 8
        ));
    };
    let data = (bytes.len() - 8 - header.len()) as u64;
    let Ok(serde_json::Value::Object(entries)) = serde_json::from_slice(header) else {
        return Ok(()); // not a JSON object: the crate says so
    };
    for (name, entry) in entries.iter().filter(|(k, _)| *k != "__metadata__") {
        let offsets = entry["data_offsets"].as_array().map(|a| {
            a.iter()
                .map(serde_json::Value::as_u64)
                .collect::<Option<Vec<u64>>>()
        });
        if let Some(Some(o)) = offsets {
            if let [begin, end] = o[..] {
                if begin > end || end > data {
                    return Err(format!(
                        "tensor '{name}': data_offsets [{begin}, {end}] do not fit the {data} bytes \
                         of data"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Writes float32 tensors to a safetensors file, under the given names.
///
/// # Errors
/// [`Error::Io`] or [`Error::Format`] when writing fails.
pub fn write_f32(path: impl AsRef<Path>, tensors: &[(&str, ArrayD<f32>)]) -> Result<()> {
    let path = path.as_ref();
    let buffers: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, a)| {
            let bytes = a.iter().flat_map(|v| v.to_le_bytes()).collect();
            (n.to_string(), bytes, a.shape().to_vec())
        })
        .collect();
    let mut views = BTreeMap::new();
    for (n, b, s) in &buffers {
        let v = TensorView::new(Dtype::F32, s.clone(), b).map_err(|e| Error::Format {
            context: format!("tensor '{n}'"),
            source: Box::new(e),
        })?;
        views.insert(n.clone(), v);
    }
    safetensors::serialize_to_file(&views, &None, path).map_err(|e| Error::Format {
        context: path.display().to_string(),
        source: Box::new(e),
    })
}
