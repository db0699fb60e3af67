//! Shape arithmetic shared by the rules: broadcasting, and the window geometry of convolutions and pools
//! (explicit `pads` or `auto_pad`), all in checked integers.

use super::node::Node;
use crate::Result;

/// NumPy broadcasting of several dims (aligned on the last axis); `None` when they do not broadcast.
pub(crate) fn broadcast(all: &[&[usize]]) -> Option<Vec<usize>> {
    let rank = all.iter().map(|d| d.len()).max()?;
    let mut out = vec![1usize; rank];
    for d in all {
        let off = rank - d.len();
        for (i, &x) in d.iter().enumerate() {
            let o = &mut out[off + i];
            *o = match (*o, x) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => return None,
            };
        }
    }
    Some(out)
}

/// The explicit pads `[begin..., end...]` of a window op over `spatial` input sizes, from its `pads` and
/// `auto_pad` attributes, with the dilated kernel `extent` and `strides` per axis.
///
/// # Errors
/// [`crate::Error::InvalidLayer`] naming the node when `pads` has the wrong length or a negative entry, or
/// `auto_pad` is not one of the four values.
pub(crate) fn window_pads(
    n: &Node<'_, '_>,
    spatial: &[usize],
    extent: &[usize],
    strides: &[usize],
) -> Result<Vec<usize>> {
    let auto = n.attr_string("auto_pad")?.unwrap_or("NOTSET");
    explicit_pads(auto, n.attr_ints("pads")?, spatial, extent, strides).map_err(|e| n.err(e))
}

/// The explicit pads of a window op from `auto_pad` (`NOTSET`, `VALID`, `SAME_UPPER`, `SAME_LOWER`) and
/// `pads` (read for `NOTSET`): `SAME_*` pads so that `out = ceil(in / stride)`, the odd one at the end
/// (`UPPER`) or the beginning (`LOWER`).
pub(crate) fn explicit_pads(
    auto: &str,
    pads: Option<&[i64]>,
    spatial: &[usize],
    extent: &[usize],
    strides: &[usize],
) -> std::result::Result<Vec<usize>, String> {
    let k = spatial.len();
    match auto {
        "NOTSET" => match pads {
            None => Ok(vec![0; 2 * k]),
            Some(p) if p.len() == 2 * k => p
                .iter()
                .map(|&v| usize::try_from(v).map_err(|_| format!("pad {v} is negative")))
                .collect(),
            Some(p) => Err(format!(
                "pads has {} values; {k} spatial axes need {}",
                p.len(),
                2 * k
            )),
        },
        "VALID" => Ok(vec![0; 2 * k]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut begin = vec![0; k];
            let mut end = vec![0; k];
            for a in 0..k {
                let out = spatial[a].div_ceil(strides[a]);
                let need =
                    (out.saturating_sub(1) * strides[a] + extent[a]).saturating_sub(spatial[a]);
                let small = need / 2;
                (begin[a], end[a]) = if auto == "SAME_UPPER" {
                    (small, need - small)
                } else {
                    (need - small, small)
                };
            }
            Ok(begin.into_iter().chain(end).collect())
        }
        other => Err(format!(
            "auto_pad is {other:?}; it must be NOTSET, VALID, SAME_UPPER or SAME_LOWER"
        )),
    }
}

/// Per-axis integers from attribute `name` with `k` entries, each at least 1 (`default` when absent).
///
/// # Errors
/// [`crate::Error::InvalidLayer`] naming the node and attribute when the length is not `k` or an entry is
/// below 1.
pub(crate) fn per_axis(
    n: &Node<'_, '_>,
    name: &str,
    k: usize,
    default: usize,
) -> Result<Vec<usize>> {
    match n.attr_ints(name)? {
        None => Ok(vec![default; k]),
        Some(v) if v.len() == k => v.iter().map(|&x| n.size(name, x, true)).collect(),
        Some(v) => Err(n.err(format!(
            "{name} has {} values; {k} spatial axes need {k}",
            v.len()
        ))),
    }
}

/// The output size of a window of dilated `extent` sliding by `stride` over `len` with `pads` (begin,
/// end); `ceil` rounds the last partial window up (pooling's `ceil_mode`, where a window must still start
/// inside the input or its begin padding).
pub(crate) fn window_out(
    len: usize,
    extent: usize,
    stride: usize,
    pads: (usize, usize),
    ceil: bool,
) -> Option<usize> {
    let padded = len.checked_add(pads.0)?.checked_add(pads.1)?;
    let span = padded.checked_sub(extent)?;
    let mut out = if ceil {
        span.div_ceil(stride) + 1
    } else {
        span / stride + 1
    };
    // PyTorch and onnxruntime drop a last window that would start in the end padding.
    if ceil && (out - 1) * stride >= len + pads.0 {
        out -= 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_aligns_on_the_last_axis() {
        assert_eq!(broadcast(&[&[2, 3, 4], &[3, 1]]), Some(vec![2, 3, 4]));
        assert_eq!(broadcast(&[&[1], &[5, 1, 7]]), Some(vec![5, 1, 7]));
        assert_eq!(broadcast(&[&[], &[2]]), Some(vec![2]));
        assert_eq!(broadcast(&[&[2, 3], &[4, 3]]), None);
    }

    #[test]
    fn window_sizes_match_pytorch() {
        // conv k3 s1 p1 on 8: 8; k3 s2 p1 on 8: 4; pool k3 s2 ceil on 6: 3 (floor 2)
        assert_eq!(window_out(8, 3, 1, (1, 1), false), Some(8));
        assert_eq!(window_out(8, 3, 2, (1, 1), false), Some(4));
        assert_eq!(window_out(6, 3, 2, (0, 0), true), Some(3));
        assert_eq!(window_out(6, 3, 2, (0, 0), false), Some(2));
        // ceil_mode never starts a window in the end padding: k2 s2 p1 on 5 gives 3, not 4
        assert_eq!(window_out(5, 2, 2, (1, 1), true), Some(3));
        assert_eq!(window_out(2, 5, 1, (0, 0), false), None);
    }
}
