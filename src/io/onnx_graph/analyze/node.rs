//! What a rule sees of a node: its attributes, what is known of its inputs, and the checked conversions
//! from the file's integers to axes and sizes (every error names the node).

use std::rc::Rc;

use super::tensor::Tensor;
use super::{Act, Batch, Out, Value};
use crate::io::onnx::{attr_int, attr_ints, attr_string, NodeProto};
use crate::{memory, Error, Result};

/// One node under analysis.
pub(crate) struct Node<'n, 'a> {
    proto: &'a NodeProto,
    inputs: Vec<Option<&'n Value<'a>>>,
    opset: i64,
    batch: Batch,
    budget: u64,
}

impl<'n, 'a> Node<'n, 'a> {
    pub(super) fn new(
        proto: &'a NodeProto,
        inputs: Vec<Option<&'n Value<'a>>>,
        opset: i64,
        batch: Batch,
        budget: u64,
    ) -> Self {
        Node {
            proto,
            inputs,
            opset,
            batch,
            budget,
        }
    }

    /// The node itself.
    pub(crate) fn proto(&self) -> &'a NodeProto {
        self.proto
    }

    /// The default operator set's version.
    pub(crate) fn opset(&self) -> i64 {
        self.opset
    }

    /// An error naming this node.
    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::invalid(
            format!("ONNX node '{}' ({})", self.proto.name, self.proto.op_type),
            reason,
        )
    }

    /// The number of inputs the node lists (omitted optional ones included).
    pub(crate) fn arity(&self) -> usize {
        self.inputs.len()
    }

    /// Input `i`, `None` when absent or omitted.
    pub(crate) fn input(&self, i: usize) -> Option<&'n Value<'a>> {
        self.inputs.get(i).copied().flatten()
    }

    /// Input `i`, or an error saying it is missing.
    pub(crate) fn required(&self, i: usize) -> Result<&'n Value<'a>> {
        self.input(i)
            .ok_or_else(|| self.err(format!("input #{i} is missing")))
    }

    /// True when every present input is a constant.
    pub(crate) fn all_const(&self) -> bool {
        self.inputs
            .iter()
            .flatten()
            .all(|v| matches!(v, Value::Const(_)))
    }

    /// True when some input is a constant folded from a symbolic batch size, or this node reads the shape
    /// of a batched value whose batch is symbolic.
    pub(crate) fn batch_dependent(&self) -> bool {
        let reads_shape = matches!(self.proto.op_type.as_str(), "Shape" | "Size");
        self.inputs.iter().flatten().any(|v| match v {
            Value::Const(c) => c.batch_dependent(),
            Value::Act(a) => reads_shape && a.batched && self.batch.symbolic,
        })
    }

    /// The dims of input `i`, when known.
    pub(crate) fn dims(&self, i: usize) -> Option<Vec<usize>> {
        match self.input(i)? {
            Value::Const(c) => Some(c.dims()),
            Value::Act(a) => a.dims.clone(),
        }
    }

    /// The data type of input `i` (0 when not known).
    pub(crate) fn dtype(&self, i: usize) -> i32 {
        match self.input(i) {
            Some(Value::Const(c)) => c.dtype(),
            Some(Value::Act(a)) => a.dtype,
            None => 0,
        }
    }

    /// True when input `i` is a runtime value whose first axis is the batch.
    pub(crate) fn batched(&self, i: usize) -> bool {
        matches!(self.input(i), Some(Value::Act(a)) if a.batched)
    }

    /// Input `i`'s values when it is a constant.
    ///
    /// # Errors
    /// As [`Const::tensor`].
    pub(crate) fn tensor(&self, i: usize) -> Result<Option<Rc<Tensor>>> {
        match self.input(i) {
            Some(Value::Const(c)) => c.tensor().map(Some),
            _ => Ok(None),
        }
    }

    /// Input `i`'s values as integers when it is a constant, flattened.
    ///
    /// # Errors
    /// As [`Const::tensor`].
    pub(crate) fn ints(&self, i: usize) -> Result<Option<Vec<i64>>> {
        Ok(self
            .tensor(i)?
            .map(|t| t.to_i64().into_raw_vec_and_offset().0))
    }

    /// The INT attribute `name`.
    ///
    /// # Errors
    /// [`Error::Format`] when it has another type.
    pub(crate) fn attr_int(&self, name: &str) -> Result<Option<i64>> {
        attr_int(self.proto, name)
    }

    /// The INTS attribute `name`.
    ///
    /// # Errors
    /// [`Error::Format`] when it has another type.
    pub(crate) fn attr_ints(&self, name: &str) -> Result<Option<&'a [i64]>> {
        attr_ints(self.proto, name)
    }

    /// The STRING attribute `name`.
    ///
    /// # Errors
    /// [`Error::Format`] when it has another type or is not UTF-8.
    pub(crate) fn attr_string(&self, name: &str) -> Result<Option<&'a str>> {
        attr_string(self.proto, name)
    }

    /// The STRING attribute `name` (`default` when absent), which must be one of `allowed`.
    ///
    /// # Errors
    /// As [`Node::attr_string`], and [`Error::InvalidLayer`] naming the node, the attribute, its value
    /// and the valid ones when it is not one of `allowed`.
    pub(crate) fn attr_choice(
        &self,
        name: &str,
        default: &'a str,
        allowed: &[&str],
    ) -> Result<&'a str> {
        let v = self.attr_string(name)?.unwrap_or(default);
        if allowed.contains(&v) {
            return Ok(v);
        }
        Err(self.err(format!(
            "{name} is {v:?}; it must be one of {}",
            allowed.join(", ")
        )))
    }

    /// Integers from attribute `name` (older opsets) or else from constant input `i` (newer ones); `None`
    /// when neither is present, an error when the input is present but not a constant.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when input `i` is computed at run time.
    pub(crate) fn ints_from(&self, name: &str, i: usize) -> Result<Option<Vec<i64>>> {
        if let Some(v) = self.attr_ints(name)? {
            return Ok(Some(v.to_vec()));
        }
        self.ints(i)
    }

    /// Checks that a constant of `count` elements fits what is left of the folding budget.
    ///
    /// # Errors
    /// [`Error::TooLarge`] naming the node.
    pub(crate) fn reserve(&self, count: usize) -> Result<()> {
        memory::check(
            || {
                format!(
                    "folding node '{}' ({}) into {count} values",
                    self.proto.name, self.proto.op_type
                )
            },
            (count as u64).saturating_mul(8),
            self.budget,
            "",
        )
    }

    /// An ONNX axis (negative counts from the end) as an index into `rank` axes.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] naming the node and what the axis is of when it is out of range.
    pub(crate) fn axis(&self, what: &str, axis: i64, rank: usize) -> Result<usize> {
        let r = rank as i64;
        if axis < -r || axis >= r {
            return Err(self.err(format!(
                "{what} {axis} is out of range for {rank} axes (valid: {} to {})",
                -r,
                r - 1
            )));
        }
        Ok(if axis < 0 { axis + r } else { axis } as usize)
    }

    /// Every axis of `axes` as an index into `rank` axes, sorted; repeats are an error.
    ///
    /// # Errors
    /// As [`Node::axis`], and when an axis repeats.
    pub(crate) fn axes(&self, what: &str, axes: &[i64], rank: usize) -> Result<Vec<usize>> {
        let mut out = axes
            .iter()
            .map(|&a| self.axis(what, a, rank))
            .collect::<Result<Vec<_>>>()?;
        out.sort_unstable();
        if out.windows(2).any(|w| w[0] == w[1]) {
            return Err(self.err(format!("{what} {axes:?} repeats an axis")));
        }
        Ok(out)
    }

    /// A non-negative integer from the file (a size, a stride, a count).
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] naming the node and what the number is when it is negative (or, with
    /// `positive`, zero).
    pub(crate) fn size(&self, what: &str, v: i64, positive: bool) -> Result<usize> {
        if v < 0 || (positive && v == 0) {
            let need = if positive { "at least 1" } else { "at least 0" };
            return Err(self.err(format!("{what} is {v}; it must be {need}")));
        }
        usize::try_from(v).map_err(|_| self.err(format!("{what} {v} does not fit in memory")))
    }

    /// A runtime output with dims `dims`, the data type of input 0, batched when `batched`.
    pub(crate) fn act(&self, dims: Option<Vec<usize>>, batched: bool) -> Out {
        Out::Act(Act {
            dims,
            dtype: self.dtype(0),
            batched,
        })
    }
}

/// The product of `dims`, or `None` when the product of its non-zero dims passes `isize::MAX` (what an
/// array can index, even an empty one: `[0, 2^40, 2^40]` is refused too).
pub(crate) fn numel(dims: &[usize]) -> Option<usize> {
    let nonzero = dims
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| isize::try_from(n).is_ok())?;
    Some(if dims.contains(&0) { 0 } else { nonzero })
}
