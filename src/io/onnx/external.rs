//! Tensors whose data lives in a separate file (`data_location = EXTERNAL`, as PyTorch's exporter writes
//! them): read into the model, from files inside the model's own folder only.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::proto::tensor_proto::DataLocation;
use super::{ModelProto, TensorProto, MAX_TENSOR_BYTES};
use crate::{Error, Result};

/// Reads every external tensor of the main graph (initializers and tensor attributes) into its
/// `raw_data`, so that later stages see a self-contained model. `dir` is the model file's folder.
///
/// # Errors
/// [`Error::Format`] naming the tensor when its location is absolute, leaves `dir` (`..`, or a link
/// out of it), is missing, or its offset and length do not lie inside the data file.
pub(super) fn inline(model: &mut ModelProto, dir: &Path, source: &str) -> Result<()> {
    let Some(graph) = model.graph.as_mut() else {
        return Ok(());
    };
    let attrs = graph
        .node
        .iter_mut()
        .flat_map(|n| n.attribute.iter_mut())
        .filter_map(|a| a.t.as_mut());
    for t in graph.initializer.iter_mut().chain(attrs) {
        if t.data_location == DataLocation::External as i32 {
            let bytes = read(t, dir)
                .map_err(|m| Error::format(format!("{source}: tensor '{}'", t.name), m))?;
            t.raw_data = bytes.into();
            t.external_data.clear();
            t.data_location = DataLocation::Default as i32;
        }
    }
    Ok(())
}

/// The bytes of one external tensor.
fn read(t: &TensorProto, dir: &Path) -> std::result::Result<Vec<u8>, String> {
    let key = |k: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.as_str())
    };
    let location = key("location").ok_or("its external data has no 'location'")?;
    let path = inside(dir, location)?;
    let number = |k: &str| -> std::result::Result<Option<u64>, String> {
        key(k)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("external data '{k}' is {v:?}, not a byte count"))
            })
            .transpose()
    };
    let offset = number("offset")?.unwrap_or(0);
    let mut file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let size = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let length = number("length")?.unwrap_or(size.saturating_sub(offset));
    if length > MAX_TENSOR_BYTES {
        return Err(format!(
            "its external data has {length} bytes, over {MAX_TENSOR_BYTES}"
        ));
    }
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(format!(
            "its external data (offset {offset}, length {length}) runs past the end of {} ({size} bytes)",
            path.display()
        ));
    }
    let mut bytes = vec![0u8; length as usize];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}

/// `location` resolved inside `dir`: relative, no `..`, and (after following links) still inside it.
fn inside(dir: &Path, location: &str) -> std::result::Result<PathBuf, String> {
    let rel = Path::new(location);
    if location.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "its external data location {location:?} is not a plain relative path inside the model's folder"
        ));
    }
    let base = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = base
        .join(rel)
        .canonicalize()
        .map_err(|e| format!("external data {location:?}: {e}"))?;
    if !path.starts_with(&base) {
        return Err(format!(
            "its external data {location:?} leads out of the model's folder"
        ));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::inside;

    #[test]
    fn locations_outside_the_folder_are_refused() {
        let dir = std::env::temp_dir();
        for bad in ["", "/etc/passwd", "../x.data", "a/../../x", "./x"] {
            assert!(inside(&dir, bad).is_err(), "{bad:?} accepted");
        }
    }
}
