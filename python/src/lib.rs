//! Python bindings of `linear_collapse` (the native module `linear_collapse._core`).
//!
//! The layer classes validate their parameters when they are built (the Rust constructors), so a bad layer
//! fails where it is written. Every long computation runs with the GIL released (`Python::detach`).
//! `python/linear_collapse/__init__.py` wraps these functions in the public, documented API.

mod graph;

use std::path::PathBuf;

use lc::compose::explain;
use lc::layer::{
    AvgPool2d as RAvgPool2d, AvgPool2dConfig, BatchNorm as RBatchNorm, Conv1d as RConv1d,
    Conv1dConfig, Conv2d as RConv2d, Conv2dConfig, Flatten as RFlatten, Layer, Linear as RLinear,
    Pad as RPad, PadMode,
};
use lc::{Accumulate, Method, Options, Scalar, Shape};
use linear_collapse as lc;
use ndarray::{Array1, ArrayD, Dimension};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyMemoryError, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

// ---------------------------------------------------------------------------------------------------------
// errors

/// The Python exception for a library error, with the library's message.
fn to_py(e: lc::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        lc::Error::Shape { .. }
        | lc::Error::InvalidLayer { .. }
        | lc::Error::Unsupported { .. } => PyValueError::new_err(msg),
        lc::Error::TooLarge { .. } => PyMemoryError::new_err(msg),
        lc::Error::Io { source, .. } => {
            PyOSError::new_err((source.raw_os_error().unwrap_or(0), msg))
        }
        _ => PyRuntimeError::new_err(msg),
    }
}

fn value_error(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

// ---------------------------------------------------------------------------------------------------------
// arrays in

/// An array argument converted to the library's element type: float32 stays float32, float64 stays
/// float64, anything else array-like goes through `numpy.asarray(x, dtype=float64)`.
enum Arr {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
}

impl Arr {
    fn from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Arr> {
        if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f32>>() {
            return Ok(Arr::F32(a.as_array().to_owned()));
        }
        if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f64>>() {
            return Ok(Arr::F64(a.as_array().to_owned()));
        }
        let np = obj.py().import("numpy")?;
        let converted = np.call_method1("asarray", (obj, "float64")).map_err(|e| {
            PyTypeError::new_err(format!("{what}: not convertible to a float array: {e}"))
        })?;
        let a = converted.extract::<PyReadonlyArrayDyn<'_, f64>>()?;
        Ok(Arr::F64(a.as_array().to_owned()))
    }

    fn is_f64(&self) -> bool {
        matches!(self, Arr::F64(_))
    }

    fn into_f64(self) -> ArrayD<f64> {
        match self {
            Arr::F32(a) => a.mapv(f64::from),
            Arr::F64(a) => a,
        }
    }

    fn into_f32(self) -> ArrayD<f32> {
        match self {
            Arr::F32(a) => a,
            // only reached when every array of the layer is float32
            Arr::F64(a) => a.mapv(|v| v as f32),
        }
    }
}

/// An n-d array reshaped to a fixed dimensionality, or a `ValueError` naming the expected layout.
fn dims<T, D: Dimension>(
    a: ArrayD<T>,
    layer: &str,
    what: &str,
    layout: &str,
) -> PyResult<ndarray::Array<T, D>> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>().map_err(|_| {
        value_error(format!(
            "{layer}: {what} must be {layout}, got an array of shape {shape:?}"
        ))
    })
}

fn opt_arr(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Arr>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => Arr::from_py(o, what).map(Some),
    }
}

// ---------------------------------------------------------------------------------------------------------
// integer arguments

fn ints(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<usize>> {
    let bad = || {
        value_error(format!(
            "{what} must be a non-negative int or a tuple of non-negative ints, got {obj}"
        ))
    };
    if let Ok(i) = obj.extract::<i64>() {
        return usize::try_from(i).map(|u| vec![u]).map_err(|_| bad());
    }
    let v: Vec<i64> = obj.extract().map_err(|_| bad())?;
    v.into_iter()
        .map(|i| usize::try_from(i).map_err(|_| bad()))
        .collect()
}

/// An int `k` as `[k, k]`, or a pair.
fn pair(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<[usize; 2]> {
    match ints(obj, what)?[..] {
        [k] if obj.extract::<i64>().is_ok() => Ok([k, k]),
        [a, b] => Ok([a, b]),
        _ => Err(value_error(format!(
            "{what} must be an int or a pair (h, w), got {obj}"
        ))),
    }
}

/// 2-d padding: an int (all sides), a pair `(ph, pw)` (PyTorch's `padding=(ph, pw)`), or
/// `[top, left, bottom, right]`.
fn padding4(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<[usize; 4]> {
    match ints(obj, what)?[..] {
        [p] if obj.extract::<i64>().is_ok() => Ok([p; 4]),
        [p, q] => Ok([p, q, p, q]),
        [t, l, b, r] => Ok([t, l, b, r]),
        _ => Err(value_error(format!(
            "{what} must be an int, a pair (ph, pw) or [top, left, bottom, right], got {obj}"
        ))),
    }
}

/// 1-d padding: an int or `(left, right)`.
fn padding2(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<[usize; 2]> {
    match ints(obj, what)?[..] {
        [p] if obj.extract::<i64>().is_ok() => Ok([p, p]),
        [l, r] => Ok([l, r]),
        _ => Err(value_error(format!(
            "{what} must be an int or a pair (left, right), got {obj}"
        ))),
    }
}

fn one(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    match ints(obj, what)?[..] {
        [k] => Ok(k),
        _ => Err(value_error(format!("{what} must be an int, got {obj}"))),
    }
}

fn shape_of(dims: &[usize]) -> PyResult<Shape> {
    Shape::from_dims(dims).ok_or_else(|| {
        value_error(format!(
            "input_shape must have at most {} dimensions, without the batch dimension, got {dims:?}",
            lc::MAX_RANK
        ))
    })
}

// ---------------------------------------------------------------------------------------------------------
// layers

/// A layer kept in the element type of its parameters.
#[derive(Clone)]
enum Stored {
    F32(Layer<f32>),
    F64(Layer<f64>),
}

/// Base class of every layer: `Conv2d`, `Conv1d`, `Linear`, `Flatten`, `BatchNorm`, `AvgPool2d`, `Pad`.
#[pyclass(subclass, frozen, module = "linear_collapse", name = "Layer")]
struct PyLayer {
    inner: Stored,
}

#[pymethods]
impl PyLayer {
    fn __repr__(&self) -> String {
        match &self.inner {
            Stored::F32(l) => l.describe(),
            Stored::F64(l) => l.describe(),
        }
    }

    /// Number of parameters (weights, biases, statistics).
    #[getter]
    fn num_params(&self) -> usize {
        match &self.inner {
            Stored::F32(l) => l.num_params(),
            Stored::F64(l) => l.num_params(),
        }
    }

    /// `"float32"` or `"float64"`: the element type of the layer's parameters (float32 for layers that have
    /// none).
    #[getter]
    fn dtype(&self) -> &'static str {
        match &self.inner {
            Stored::F32(_) => "float32",
            Stored::F64(_) => "float64",
        }
    }
}

/// The two element types a layer is stored in: parameters convert to it, and the built layer is wrapped.
trait Elem: lc::Scalar {
    /// The array in this type (float32 arrays are only narrowed when every array of the layer is float32).
    fn convert(a: Arr) -> ArrayD<Self>;
    /// The built layer, or the library's error as a Python exception.
    fn wrap(layer: lc::Result<Layer<Self>>) -> PyResult<PyLayer>;
}

impl Elem for f32 {
    fn convert(a: Arr) -> ArrayD<f32> {
        a.into_f32()
    }
    fn wrap(layer: lc::Result<Layer<f32>>) -> PyResult<PyLayer> {
        Ok(PyLayer {
            inner: Stored::F32(layer.map_err(to_py)?),
        })
    }
}

impl Elem for f64 {
    fn convert(a: Arr) -> ArrayD<f64> {
        a.into_f64()
    }
    fn wrap(layer: lc::Result<Layer<f64>>) -> PyResult<PyLayer> {
        Ok(PyLayer {
            inner: Stored::F64(layer.map_err(to_py)?),
        })
    }
}

/// Calls the generic builder `$f::<f64>` when any of the arrays is float64, else `$f::<f32>`.
macro_rules! by_dtype {
    ($arrays:expr, $f:ident($($arg:expr),* $(,)?)) => {
        if $arrays.iter().any(|a: &Option<&Arr>| a.is_some_and(Arr::is_f64)) {
            $f::<f64>($($arg),*)
        } else {
            $f::<f32>($($arg),*)
        }
    };
}

/// One parameter in the layer's element type and dimensionality, or a `ValueError` naming the layout.
fn param<T: Elem, D: Dimension>(
    a: Arr,
    layer: &str,
    what: &str,
    layout: &str,
) -> PyResult<ndarray::Array<T, D>> {
    dims(T::convert(a), layer, what, layout)
}

/// An optional parameter, as [`param`].
fn opt_param<T: Elem, D: Dimension>(
    a: Option<Arr>,
    layer: &str,
    what: &str,
    layout: &str,
) -> PyResult<Option<ndarray::Array<T, D>>> {
    a.map(|a| param(a, layer, what, layout)).transpose()
}

const CONV2D_W: &str = "4-d (out_channels, in_channels/groups, kh, kw)";
const CONV1D_W: &str = "3-d (out_channels, in_channels/groups, k)";
const CHANNELS: &str = "1-d (out_channels,)";

fn conv2d<T: Elem>(w: Arr, b: Option<Arr>, config: Conv2dConfig) -> PyResult<PyLayer> {
    let w = param(w, "Conv2d", "weight", CONV2D_W)?;
    let b = opt_param(b, "Conv2d", "bias", CHANNELS)?;
    T::wrap(RConv2d::new(w, b, config).map(Layer::Conv2d))
}

fn conv1d<T: Elem>(w: Arr, b: Option<Arr>, config: Conv1dConfig) -> PyResult<PyLayer> {
    let w = param(w, "Conv1d", "weight", CONV1D_W)?;
    let b = opt_param(b, "Conv1d", "bias", CHANNELS)?;
    T::wrap(RConv1d::new(w, b, config).map(Layer::Conv1d))
}

fn linear<T: Elem>(w: Arr, b: Option<Arr>) -> PyResult<PyLayer> {
    let w = param(w, "Linear", "weight", "2-d (out_features, in_features)")?;
    let b = opt_param(b, "Linear", "bias", "1-d (out_features,)")?;
    T::wrap(RLinear::new(w, b).map(Layer::Linear))
}

fn batch_norm<T: Elem>(
    m: Arr,
    v: Arr,
    eps: f64,
    w: Option<Arr>,
    b: Option<Arr>,
) -> PyResult<PyLayer> {
    let l = "1-d (num_features,)";
    let (m, v) = (
        param(m, "BatchNorm", "running_mean", l)?,
        param(v, "BatchNorm", "running_var", l)?,
    );
    let w = opt_param(w, "BatchNorm", "weight", l)?;
    let b = opt_param(b, "BatchNorm", "bias", l)?;
    T::wrap(RBatchNorm::new(m, v, eps, w, b).map(Layer::BatchNorm))
}

fn groups_of(groups: i64) -> PyResult<usize> {
    usize::try_from(groups)
        .map_err(|_| value_error(format!("groups must be positive, got {groups}")))
}

/// 2-d convolution (PyTorch's `nn.Conv2d`): weight `(out, in/groups, kh, kw)`, bias `(out,)`.
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct Conv2d;

#[pymethods]
impl Conv2d {
    #[new]
    #[pyo3(signature = (weight, bias=None, stride=None, padding=None, dilation=None, groups=1))]
    fn new(
        weight: &Bound<'_, PyAny>,
        bias: Option<&Bound<'_, PyAny>>,
        stride: Option<&Bound<'_, PyAny>>,
        padding: Option<&Bound<'_, PyAny>>,
        dilation: Option<&Bound<'_, PyAny>>,
        groups: i64,
    ) -> PyResult<PyClassInitializer<Self>> {
        let w = Arr::from_py(weight, "Conv2d weight")?;
        let b = opt_arr(bias, "Conv2d bias")?;
        let config = Conv2dConfig {
            stride: stride
                .map(|s| pair(s, "stride"))
                .transpose()?
                .unwrap_or([1, 1]),
            dilation: dilation
                .map(|s| pair(s, "dilation"))
                .transpose()?
                .unwrap_or([1, 1]),
            padding: padding
                .map(|s| padding4(s, "padding"))
                .transpose()?
                .unwrap_or([0; 4]),
            groups: groups_of(groups)?,
        };
        let layer = by_dtype!([Some(&w), b.as_ref()], conv2d(w, b, config))?;
        Ok(PyClassInitializer::from(layer).add_subclass(Conv2d))
    }
}

/// 1-d convolution (`nn.Conv1d`): weight `(out, in/groups, k)`, bias `(out,)`, input `(c, l)`.
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct Conv1d;

#[pymethods]
impl Conv1d {
    #[new]
    #[pyo3(signature = (weight, bias=None, stride=None, padding=None, dilation=None, groups=1))]
    fn new(
        weight: &Bound<'_, PyAny>,
        bias: Option<&Bound<'_, PyAny>>,
        stride: Option<&Bound<'_, PyAny>>,
        padding: Option<&Bound<'_, PyAny>>,
        dilation: Option<&Bound<'_, PyAny>>,
        groups: i64,
    ) -> PyResult<PyClassInitializer<Self>> {
        let w = Arr::from_py(weight, "Conv1d weight")?;
        let b = opt_arr(bias, "Conv1d bias")?;
        let config = Conv1dConfig {
            stride: stride.map(|s| one(s, "stride")).transpose()?.unwrap_or(1),
            dilation: dilation
                .map(|s| one(s, "dilation"))
                .transpose()?
                .unwrap_or(1),
            padding: padding
                .map(|s| padding2(s, "padding"))
                .transpose()?
                .unwrap_or([0; 2]),
            groups: groups_of(groups)?,
        };
        let layer = by_dtype!([Some(&w), b.as_ref()], conv1d(w, b, config))?;
        Ok(PyClassInitializer::from(layer).add_subclass(Conv1d))
    }
}

/// Fully connected layer (`nn.Linear`): weight `(out, in)`, bias `(out,)`.
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct Linear;

#[pymethods]
impl Linear {
    #[new]
    #[pyo3(signature = (weight, bias=None))]
    fn new(
        weight: &Bound<'_, PyAny>,
        bias: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let w = Arr::from_py(weight, "Linear weight")?;
        let b = opt_arr(bias, "Linear bias")?;
        let layer = by_dtype!([Some(&w), b.as_ref()], linear(w, b))?;
        Ok(PyClassInitializer::from(layer).add_subclass(Linear))
    }
}

/// `(C, H, W)` or `(C, L)` to a flat vector, in C order (`nn.Flatten`).
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct Flatten;

#[pymethods]
impl Flatten {
    #[new]
    fn new() -> PyClassInitializer<Self> {
        PyClassInitializer::from(PyLayer {
            inner: Stored::F32(Layer::Flatten(RFlatten)),
        })
        .add_subclass(Flatten)
    }
}

/// Batch normalization in eval mode (`nn.BatchNorm1d/2d`), per channel or per feature.
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct BatchNorm;

#[pymethods]
impl BatchNorm {
    #[new]
    #[pyo3(signature = (running_mean, running_var, eps=1e-5, weight=None, bias=None))]
    fn new(
        running_mean: &Bound<'_, PyAny>,
        running_var: &Bound<'_, PyAny>,
        eps: f64,
        weight: Option<&Bound<'_, PyAny>>,
        bias: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let m = Arr::from_py(running_mean, "BatchNorm running_mean")?;
        let v = Arr::from_py(running_var, "BatchNorm running_var")?;
        let w = opt_arr(weight, "BatchNorm weight")?;
        let b = opt_arr(bias, "BatchNorm bias")?;
        let arrays = [Some(&m), Some(&v), w.as_ref(), b.as_ref()];
        let layer = by_dtype!(arrays, batch_norm(m, v, eps, w, b))?;
        Ok(PyClassInitializer::from(layer).add_subclass(BatchNorm))
    }
}

/// 2-d average pooling (`nn.AvgPool2d`).
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct AvgPool2d;

#[pymethods]
impl AvgPool2d {
    #[new]
    #[pyo3(signature = (kernel_size, stride=None, padding=None, ceil_mode=false, count_include_pad=true))]
    fn new(
        kernel_size: &Bound<'_, PyAny>,
        stride: Option<&Bound<'_, PyAny>>,
        padding: Option<&Bound<'_, PyAny>>,
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> PyResult<PyClassInitializer<Self>> {
        let kernel = pair(kernel_size, "kernel_size")?;
        let config = AvgPool2dConfig {
            stride: stride
                .filter(|s| !s.is_none())
                .map(|s| pair(s, "stride"))
                .transpose()?,
            padding: padding
                .map(|s| padding4(s, "padding"))
                .transpose()?
                .unwrap_or([0; 4]),
            ceil_mode,
            count_include_pad,
        };
        let pool = RAvgPool2d::new(kernel, config).map_err(to_py)?;
        Ok(PyClassInitializer::from(PyLayer {
            inner: Stored::F32(Layer::AvgPool2d(pool)),
        })
        .add_subclass(AvgPool2d))
    }
}

/// Explicit padding (`F.pad` / `nn.ZeroPad2d`, `nn.ConstantPad2d`, `nn.ReflectionPad2d`, ...).
#[pyclass(extends = PyLayer, frozen, module = "linear_collapse")]
struct Pad;

#[pymethods]
impl Pad {
    #[new]
    #[pyo3(signature = (padding, mode="constant", value=0.0))]
    fn new(
        padding: &Bound<'_, PyAny>,
        mode: &str,
        value: f64,
    ) -> PyResult<PyClassInitializer<Self>> {
        let p = padding4(padding, "padding")?;
        let mode = match mode {
            "constant" => PadMode::Constant(value),
            "reflect" => PadMode::Reflect,
            "replicate" => PadMode::Replicate,
            "circular" => PadMode::Circular,
            other => {
                return Err(value_error(format!(
                "Pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {other:?}"
            )))
            }
        };
        // A constant that float32 cannot hold exactly keeps the layer in float64.
        let exact32 = match mode {
            PadMode::Constant(v) => (v as f32) as f64 == v,
            _ => true,
        };
        let layer = if exact32 {
            let mode32 = match mode {
                PadMode::Constant(v) => PadMode::Constant(v as f32),
                PadMode::Reflect => PadMode::Reflect,
                PadMode::Replicate => PadMode::Replicate,
                PadMode::Circular => PadMode::Circular,
            };
            f32::wrap(RPad::new(p, mode32).map(Layer::Pad))?
        } else {
            f64::wrap(RPad::new(p, mode).map(Layer::Pad))?
        };
        Ok(PyClassInitializer::from(layer).add_subclass(Pad))
    }
}

// ---------------------------------------------------------------------------------------------------------
// chains

enum Chain {
    F32(Vec<Layer<f32>>),
    F64(Vec<Layer<f64>>),
}

/// The layers of a Python list, in float64 when any layer is float64 (or `force_f64`), else float32.
fn chain(layers: &Bound<'_, PyAny>, force_f64: bool) -> PyResult<Chain> {
    let mut stored = Vec::new();
    for (i, item) in layers.try_iter()?.enumerate() {
        let item = item?;
        let layer = item.extract::<PyRef<'_, PyLayer>>().map_err(|_| {
            PyTypeError::new_err(format!(
                "layers[{i}] is {}, not a linear_collapse layer (Conv2d, Conv1d, Linear, Flatten, BatchNorm, AvgPool2d, Pad)",
                item.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        stored.push(layer.inner.clone());
    }
    let any_f64 = force_f64 || stored.iter().any(|s| matches!(s, Stored::F64(_)));
    Ok(if any_f64 {
        Chain::F64(
            stored
                .into_iter()
                .map(|s| match s {
                    Stored::F64(l) => Ok(l),
                    Stored::F32(l) => l.cast::<f64>(),
                })
                .collect::<lc::Result<_>>()
                .map_err(to_py)?,
        )
    } else {
        Chain::F32(
            stored
                .into_iter()
                .map(|s| match s {
                    Stored::F32(l) => l,
                    Stored::F64(_) => unreachable!("no float64 layer"),
                })
                .collect(),
        )
    })
}

fn options(method: &str, accumulate: &str) -> PyResult<Options> {
    let method = match method {
        "auto" => Method::Auto,
        "dense" => Method::Dense,
        "sparse" => Method::Sparse,
        "im2col" => Method::Im2col,
        other => {
            return Err(value_error(format!(
                "method must be 'auto', 'dense', 'sparse' or 'im2col', got {other:?}"
            )))
        }
    };
    let accumulate = match accumulate {
        "f32" | "native" => Accumulate::Native,
        "f64" => Accumulate::F64,
        other => {
            return Err(value_error(format!(
                "accumulate must be 'f32' or 'f64', got {other:?}"
            )))
        }
    };
    Ok(Options {
        method,
        accumulate,
        ..Options::default()
    })
}

struct Collapsed<T> {
    weight: ndarray::Array2<T>,
    bias: Array1<T>,
    report: String,
    output: Shape,
}

fn collapse_typed<T: Scalar>(
    chain: &[Layer<T>],
    input: Shape,
    opts: &Options,
) -> lc::Result<Collapsed<T>> {
    let plan = explain(chain, input, opts)?;
    let output = *lc::infer::shapes(chain, input)?
        .last()
        .expect("at least the input");
    let fc = lc::collapse(chain, input, opts)?;
    Ok(Collapsed {
        bias: fc.bias_or_zeros(),
        weight: fc.weight().clone(),
        report: plan.to_string(),
        output,
    })
}

fn collapsed_tuple<'py, T: numpy::Element + Scalar>(
    py: Python<'py>,
    c: Collapsed<T>,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            c.weight.into_pyarray(py).into_any(),
            c.bias.into_pyarray(py).into_any(),
            c.report.into_pyobject(py)?.into_any(),
            PyTuple::new(py, c.output.dims())?.into_any(),
        ],
    )
}

/// collapse(layers, input_shape, method="auto", accumulate="f32") -> (weight, bias, report, output_shape)
#[pyfunction]
#[pyo3(signature = (layers, input_shape, method="auto", accumulate="f32"))]
fn collapse<'py>(
    py: Python<'py>,
    layers: &Bound<'py, PyAny>,
    input_shape: Vec<usize>,
    method: &str,
    accumulate: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    let input = shape_of(&input_shape)?;
    let opts = options(method, accumulate)?;
    match chain(layers, false)? {
        Chain::F32(c) => {
            let out = py
                .detach(|| collapse_typed(&c, input, &opts))
                .map_err(to_py)?;
            collapsed_tuple(py, out)
        }
        Chain::F64(c) => {
            let out = py
                .detach(|| collapse_typed(&c, input, &opts))
                .map_err(to_py)?;
            collapsed_tuple(py, out)
        }
    }
}

/// probe(layers, input_shape) -> (weight, bias), float64
#[pyfunction]
fn probe<'py>(
    py: Python<'py>,
    layers: &Bound<'py, PyAny>,
    input_shape: Vec<usize>,
) -> PyResult<Bound<'py, PyTuple>> {
    let input = shape_of(&input_shape)?;
    let p = match chain(layers, false)? {
        Chain::F32(c) => py.detach(|| lc::reference::probe(&c, input)),
        Chain::F64(c) => py.detach(|| lc::reference::probe(&c, input)),
    }
    .map_err(to_py)?;
    PyTuple::new(
        py,
        [
            p.weight.into_pyarray(py).into_any(),
            p.bias.into_pyarray(py).into_any(),
        ],
    )
}

fn comparison<'py>(py: Python<'py>, c: &lc::verify::Comparison) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("max_abs", c.max_abs)?;
    d.set_item("rel_fro", c.rel_fro)?;
    d.set_item("worst", c.worst.clone())?;
    d.set_item("worst_values", c.worst_values)?;
    d.set_item("ref_max", c.ref_max)?;
    Ok(d)
}

/// verify(layers, input_shape, weight, bias=None, samples=5, seed=0) -> dict
#[pyfunction]
#[pyo3(signature = (layers, input_shape, weight, bias=None, samples=5, seed=0))]
fn verify<'py>(
    py: Python<'py>,
    layers: &Bound<'py, PyAny>,
    input_shape: Vec<usize>,
    weight: &Bound<'py, PyAny>,
    bias: Option<&Bound<'py, PyAny>>,
    samples: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let input = shape_of(&input_shape)?;
    let w = Arr::from_py(weight, "weight")?;
    let b = opt_arr(bias, "bias")?;
    let opts = lc::verify::VerifyOptions { samples, seed };
    let wide = w.is_f64() || b.as_ref().is_some_and(Arr::is_f64);
    let v = match chain(layers, wide)? {
        Chain::F32(c) => {
            let w = dims(w.into_f32(), "collapsed", "weight", "2-d (n_out, n_in)")?;
            let b = b
                .map(|b| dims(b.into_f32(), "collapsed", "bias", "1-d (n_out,)"))
                .transpose()?;
            py.detach(|| {
                RLinear::new(w, b).and_then(|fc| lc::verify::verify(&fc, &c, input, &opts))
            })
        }
        Chain::F64(c) => {
            let w = dims(w.into_f64(), "collapsed", "weight", "2-d (n_out, n_in)")?;
            let b = b
                .map(|b| dims(b.into_f64(), "collapsed", "bias", "1-d (n_out,)"))
                .transpose()?;
            py.detach(|| {
                RLinear::new(w, b).and_then(|fc| lc::verify::verify(&fc, &c, input, &opts))
            })
        }
    }
    .map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("weight_vs_probe", comparison(py, &v.weight_vs_probe)?)?;
    d.set_item("bias_vs_probe", comparison(py, &v.bias_vs_probe)?)?;
    d.set_item("outputs_vs_forward", comparison(py, &v.outputs_vs_forward)?)?;
    d.set_item("rank", v.spectrum.rank)?;
    d.set_item("sigma_max", v.spectrum.sigma_max)?;
    d.set_item("sigma_min", v.spectrum.sigma_min)?;
    d.set_item("report", v.to_string())?;
    Ok(d)
}

fn toeplitz_typed<'py, T: Scalar + numpy::Element>(
    py: Python<'py>,
    conv: &RConv2d<T>,
    input: Shape,
    dense: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let t = py
        .detach(|| lc::lower::toeplitz(conv, input))
        .map_err(to_py)?;
    if dense {
        let d = py.detach(|| t.to_dense()).map_err(to_py)?;
        return Ok(d.into_pyarray(py).into_any());
    }
    let m = &t.matrix;
    let data = Array1::from(m.data().to_vec()).into_pyarray(py);
    let indices = Array1::from_iter(m.indices().iter().map(|&i| i as i64)).into_pyarray(py);
    let indptr = Array1::from_iter(m.indptr().iter().map(|&i| i as i64)).into_pyarray(py);
    let shape = PyTuple::new(py, [m.nrows(), m.ncols()])?;
    Ok(PyTuple::new(
        py,
        [
            data.into_any(),
            indices.into_any(),
            indptr.into_any(),
            shape.into_any(),
        ],
    )?
    .into_any())
}

/// toeplitz(conv, input_shape, dense=True) -> ndarray | (data, indices, indptr, shape)
#[pyfunction]
#[pyo3(signature = (conv, input_shape, dense=true))]
fn toeplitz<'py>(
    py: Python<'py>,
    conv: &Bound<'py, PyAny>,
    input_shape: Vec<usize>,
    dense: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let layer = conv
        .extract::<PyRef<'_, PyLayer>>()
        .map_err(|_| PyTypeError::new_err("toeplitz: conv must be a Conv2d or Conv1d"))?;
    let mut input = shape_of(&input_shape)?;
    // A 1-d convolution is the 2-d one of height 1 over (c, 1, l).
    if let (Shape::Cl { c, l }, true) = (
        input,
        matches!(
            &layer.inner,
            Stored::F32(Layer::Conv1d(_)) | Stored::F64(Layer::Conv1d(_))
        ),
    ) {
        input = Shape::chw(c, 1, l);
    }
    match &layer.inner {
        Stored::F32(Layer::Conv2d(c)) => toeplitz_typed(py, c, input, dense),
        Stored::F64(Layer::Conv2d(c)) => toeplitz_typed(py, c, input, dense),
        Stored::F32(Layer::Conv1d(c)) => toeplitz_typed(py, &c.to_conv2d(), input, dense),
        Stored::F64(Layer::Conv1d(c)) => toeplitz_typed(py, &c.to_conv2d(), input, dense),
        _ => Err(PyTypeError::new_err(format!(
            "toeplitz: conv must be a Conv2d or Conv1d, got {}",
            PyLayer::__repr__(&layer)
        ))),
    }
}

/// collapse_onnx(path_in, path_out, method="auto", accumulate="f32", objective="macs", force=False) -> list[str]
#[pyfunction]
#[pyo3(signature = (path_in, path_out, method="auto", accumulate="f32", objective="macs", force=false))]
fn collapse_onnx(
    py: Python<'_>,
    path_in: PathBuf,
    path_out: PathBuf,
    method: &str,
    accumulate: &str,
    objective: &str,
    force: bool,
) -> PyResult<Vec<String>> {
    let opts = lc::Options {
        policy: policy(objective, force)?,
        ..options(method, accumulate)?
    };
    py.detach(|| -> lc::Result<Vec<String>> {
        let model = lc::io::onnx::OnnxModel::read(&path_in)?;
        let (out, summary) = lc::pipeline::collapse_onnx(model, &opts, &mut |_, _| {})?;
        out.write(&path_out)?;
        Ok(summary.runs.iter().map(ToString::to_string).collect())
    })
    .map_err(to_py)
}

/// The policy of `objective` (`"macs"` or `"params"`), or `Force`.
fn policy(objective: &str, force: bool) -> PyResult<lc::Policy> {
    match (force, objective) {
        (true, _) => Ok(lc::Policy::Force),
        (false, "macs") => Ok(lc::Policy::Macs),
        (false, "params") => Ok(lc::Policy::Params),
        (false, other) => Err(PyValueError::new_err(format!(
            "objective must be 'macs' or 'params', got {other:?}"
        ))),
    }
}

/// Native part of linear_collapse; use the `linear_collapse` package.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLayer>()?;
    m.add_class::<Conv2d>()?;
    m.add_class::<Conv1d>()?;
    m.add_class::<Linear>()?;
    m.add_class::<Flatten>()?;
    m.add_class::<BatchNorm>()?;
    m.add_class::<AvgPool2d>()?;
    m.add_class::<Pad>()?;
    m.add_function(wrap_pyfunction!(collapse, m)?)?;
    m.add_function(wrap_pyfunction!(probe, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(toeplitz, m)?)?;
    m.add_function(wrap_pyfunction!(collapse_onnx, m)?)?;
    m.add_function(wrap_pyfunction!(graph::collapse_graph, m)?)?;
    Ok(())
}
