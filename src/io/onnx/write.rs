//! Writing a model: streamed one node and one tensor at a time (no second copy of the weights in memory),
//! atomically (a temporary file renamed over the target), and, past protobuf's 2 GiB, with the large
//! tensors in a data file beside it (`data_location = EXTERNAL`, as PyTorch's exporter writes them).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;

use super::proto::tensor_proto::DataLocation;
use super::proto::{GraphProto, ModelProto, StringStringEntryProto, TensorProto};
use super::MAX_MODEL_BYTES;
use crate::{Error, Result};

/// `ModelProto.graph`, `GraphProto.node`, `GraphProto.initializer`.
const MODEL_GRAPH: u32 = 7;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;

/// Tensors of at least this many bytes go to the data file when the model needs one.
const EXTERNAL_MIN_BYTES: usize = 1024;

/// Writes `model` to `path` (see the module docs); a model larger than [`MAX_MODEL_BYTES`] puts every
/// tensor of at least 1 KiB in `PATH.data`.
///
/// # Errors
/// [`Error::Io`] naming the file that cannot be created, written or renamed.
pub(crate) fn write_model(path: &Path, model: &ModelProto) -> Result<()> {
    let external = model.encoded_len() as u64 > MAX_MODEL_BYTES;
    write_with(path, model, external.then_some(EXTERNAL_MIN_BYTES))
}

/// Writes `model` to `path`, with the tensors of at least `external` bytes in `PATH.data` when given.
pub(crate) fn write_with(path: &Path, model: &ModelProto, external: Option<usize>) -> Result<()> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| {
            io_err(path)(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file path",
            ))
        })?
        .to_string_lossy()
        .to_string();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let data_name = format!("{file_name}.data");
    let tmp = temporary(&dir, &file_name);
    let data_tmp = temporary(&dir, &data_name);
    let written = (|| -> std::io::Result<()> {
        let mut data = match external {
            Some(_) => Some(Data::create(&data_tmp)?),
            None => None,
        };
        let mut out = BufWriter::with_capacity(1 << 20, File::create_new(&tmp)?);
        encode(
            model,
            &mut out,
            data.as_mut()
                .map(|d| (d, &data_name[..], external.unwrap_or(0))),
        )?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        if let Some(d) = data {
            d.finish()?;
            std::fs::rename(&data_tmp, dir.join(&data_name))?;
        }
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&data_tmp);
    }
    written.map_err(io_err(path))
}

/// A temporary name beside `name` in `dir`, unique in this process.
fn temporary(dir: &Path, name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// The data file being written, and where the next tensor goes.
struct Data {
    out: BufWriter<File>,
    offset: u64,
}

impl Data {
    fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Data {
            out: BufWriter::with_capacity(1 << 20, File::create_new(path)?),
            offset: 0,
        })
    }

    /// Appends `bytes` at a 64-byte aligned offset; returns the offset.
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<u64> {
        let pad = (64 - self.offset % 64) % 64;
        self.out.write_all(&vec![0; pad as usize])?;
        self.offset += pad;
        let at = self.offset;
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(at)
    }

    fn finish(self) -> std::io::Result<()> {
        self.out
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()
    }
}

/// Protobuf bytes of `model` written to `out` field by field: everything but the graph at once, then the
/// graph's nodes and initializers one at a time. With `data`, the initializers of at least the given bytes
/// go to the data file instead, referenced by their location.
fn encode(
    model: &ModelProto,
    out: &mut impl Write,
    mut data: Option<(&mut Data, &str, usize)>,
) -> std::io::Result<()> {
    let Some(graph) = &model.graph else {
        return out.write_all(&model.encode_to_vec());
    };
    let rest = ModelProto {
        graph: None,
        ..shallow_model(model)
    };
    out.write_all(&rest.encode_to_vec())?;
    let inits: Vec<TensorProto> = graph
        .initializer
        .iter()
        .map(|t| match &mut data {
            Some((_, location, min)) if t.raw_data.len() >= *min => external_meta(t, location),
            _ => TensorProto::default(),
        })
        .collect();
    let inits_len: usize = graph
        .initializer
        .iter()
        .zip(&inits)
        .map(|(t, meta)| {
            let t = if meta.name.is_empty() { t } else { meta };
            field_len(GRAPH_INITIALIZER, t.encoded_len())
        })
        .sum();
    let nodes_len: usize = graph
        .node
        .iter()
        .map(|n| field_len(GRAPH_NODE, n.encoded_len()))
        .sum();
    let others = shallow_graph(graph);
    let graph_len = others.encoded_len() + nodes_len + inits_len;
    let mut head = Vec::new();
    encode_key(MODEL_GRAPH, WireType::LengthDelimited, &mut head);
    encode_varint(graph_len as u64, &mut head);
    out.write_all(&head)?;
    out.write_all(&others.encode_to_vec())?;
    for n in &graph.node {
        write_field(out, GRAPH_NODE, &n.encode_to_vec())?;
    }
    for (t, mut meta) in graph.initializer.iter().zip(inits) {
        if meta.name.is_empty() {
            write_field(out, GRAPH_INITIALIZER, &t.encode_to_vec())?;
            continue;
        }
        let (d, _, _) = data.as_mut().expect("a tensor was placed outside");
        let offset = d.append(&t.raw_data)?;
        set_offset(&mut meta, offset);
        write_field(out, GRAPH_INITIALIZER, &meta.encode_to_vec())?;
    }
    Ok(())
}

/// The bytes a length-delimited field of `len` bytes takes with its key and length.
fn field_len(tag: u32, len: usize) -> usize {
    prost::encoding::key_len(tag) + prost::encoding::encoded_len_varint(len as u64) + len
}

fn write_field(out: &mut impl Write, tag: u32, bytes: &[u8]) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(16);
    encode_key(tag, WireType::LengthDelimited, &mut head);
    encode_varint(bytes.len() as u64, &mut head);
    out.write_all(&head)?;
    out.write_all(bytes)
}

/// A tensor's description without its data, pointing at `location` (its offset is set when written; the
/// placeholder keeps the encoded length the same).
fn external_meta(t: &TensorProto, location: &str) -> TensorProto {
    let entry = |key: &str, value: String| StringStringEntryProto {
        key: key.into(),
        value,
    };
    TensorProto {
        name: t.name.clone(),
        dims: t.dims.clone(),
        data_type: t.data_type,
        doc_string: t.doc_string.clone(),
        data_location: DataLocation::External as i32,
        external_data: vec![
            entry("location", location.into()),
            entry("offset", format!("{:020}", 0)),
            entry("length", t.raw_data.len().to_string()),
        ],
        ..Default::default()
    }
}

/// Sets the offset of an [`external_meta`] tensor, padded to the placeholder's width.
fn set_offset(meta: &mut TensorProto, offset: u64) {
    if let Some(e) = meta.external_data.iter_mut().find(|e| e.key == "offset") {
        e.value = format!("{offset:020}");
    }
}

/// The model's fields other than its graph (cheap: no tensor data).
fn shallow_model(m: &ModelProto) -> ModelProto {
    ModelProto {
        ir_version: m.ir_version,
        opset_import: m.opset_import.clone(),
        producer_name: m.producer_name.clone(),
        producer_version: m.producer_version.clone(),
        domain: m.domain.clone(),
        model_version: m.model_version,
        doc_string: m.doc_string.clone(),
        metadata_props: m.metadata_props.clone(),
        training_info: m.training_info.clone(),
        functions: m.functions.clone(),
        configuration: m.configuration.clone(),
        graph: None,
    }
}

/// The graph's fields other than its nodes and initializers.
fn shallow_graph(g: &GraphProto) -> GraphProto {
    GraphProto {
        name: g.name.clone(),
        sparse_initializer: g.sparse_initializer.clone(),
        doc_string: g.doc_string.clone(),
        input: g.input.clone(),
        output: g.output.clone(),
        value_info: g.value_info.clone(),
        quantization_annotation: g.quantization_annotation.clone(),
        metadata_props: g.metadata_props.clone(),
        node: vec![],
        initializer: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::onnx::OnnxModel;

    fn fixture() -> OnnxModel {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/conv_bn_fc/model.onnx"
        );
        OnnxModel::read(path).unwrap()
    }

    #[test]
    fn streamed_bytes_decode_to_the_same_model() {
        let m = fixture();
        let mut bytes = Vec::new();
        encode(m.proto(), &mut bytes, None).unwrap();
        assert_eq!(bytes.len(), m.proto().encoded_len());
        assert_eq!(&OnnxModel::decode(&bytes, "streamed").unwrap(), &m);
    }

    #[test]
    fn large_tensors_go_to_a_data_file_read_back_the_same() {
        let m = fixture();
        let dir = std::env::temp_dir().join(format!("lc-external-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.onnx");
        write_with(&path, m.proto(), Some(64)).unwrap();
        assert!(dir.join("m.onnx.data").exists());
        let back = OnnxModel::read(&path).unwrap();
        assert_eq!(back.proto().graph, m.proto().graph);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
