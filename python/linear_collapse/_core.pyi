"""Type stubs of the native module ``linear_collapse._core`` (built from python/src/lib.rs)."""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union, Set

import numpy as np
import numpy.typing as npt

_Array = npt.ArrayLike
_Int2 = Union[int, Tuple[int, int]]
_Pad = Union[int, Tuple[int, int], Tuple[int, int, int, int]]

class Layer:
    """Base class of every layer. ``repr`` gives the library's description, e.g. ``Conv2d(5->50, k5x5, s[2, 2])``."""

    @property
    def num_params(self) -> int: ...
    @property
    def dtype(self) -> str:
        """``"float32"`` or ``"float64"``: the element type of the parameters."""

class Conv2d(Layer):
    """2-d convolution (``nn.Conv2d``).

    weight ``(out, in/groups, kh, kw)``, bias ``(out,)``; stride and dilation an int or ``(h, w)``;
    padding an int, ``(ph, pw)`` or ``(top, left, bottom, right)``. float32 or float64 arrays.
    """

    def __init__(
        self,
        weight: _Array,
        bias: Optional[_Array] = None,
        stride: _Int2 = 1,
        padding: _Pad = 0,
        dilation: _Int2 = 1,
        groups: int = 1,
    ) -> None: ...

class Conv1d(Layer):
    """1-d convolution (``nn.Conv1d``): weight ``(out, in/groups, k)``; padding an int or ``(left, right)``."""

    def __init__(
        self,
        weight: _Array,
        bias: Optional[_Array] = None,
        stride: int = 1,
        padding: Union[int, Tuple[int, int]] = 0,
        dilation: int = 1,
        groups: int = 1,
    ) -> None: ...

class Linear(Layer):
    """Fully connected layer (``nn.Linear``): weight ``(out, in)``, bias ``(out,)``."""

    def __init__(self, weight: _Array, bias: Optional[_Array] = None) -> None: ...

class Flatten(Layer):
    """``(c, h, w)`` or ``(c, l)`` to a flat vector in C order (``nn.Flatten``)."""

    def __init__(self) -> None: ...

class BatchNorm(Layer):
    """Batch normalization in eval mode (``nn.BatchNorm1d/2d``), per channel or per feature."""

    def __init__(
        self,
        running_mean: _Array,
        running_var: _Array,
        eps: float = 1e-5,
        weight: Optional[_Array] = None,
        bias: Optional[_Array] = None,
    ) -> None: ...

class AvgPool2d(Layer):
    """2-d average pooling (``nn.AvgPool2d``); stride ``None`` is the kernel size."""

    def __init__(
        self,
        kernel_size: _Int2,
        stride: Optional[_Int2] = None,
        padding: _Pad = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None: ...

class Pad(Layer):
    """Explicit padding: an int, ``(ph, pw)`` or ``(top, left, bottom, right)``; mode ``"constant"``,
    ``"reflect"``, ``"replicate"`` or ``"circular"``."""

    def __init__(self, padding: _Pad, mode: str = "constant", value: float = 0.0) -> None: ...

def collapse(
    layers: Sequence[Layer], input_shape: Tuple[int, ...], method: str = "auto", accumulate: str = "f32"
) -> Tuple[np.ndarray, np.ndarray, str, Tuple[int, ...]]: ...
def probe(layers: Sequence[Layer], input_shape: Tuple[int, ...]) -> Tuple[np.ndarray, np.ndarray]: ...
def verify(
    layers: Sequence[Layer],
    input_shape: Tuple[int, ...],
    weight: _Array,
    bias: Optional[_Array] = None,
    samples: int = 5,
    seed: int = 0,
) -> Dict[str, Any]: ...
def toeplitz(
    conv: Layer, input_shape: Tuple[int, ...], dense: bool = True
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray, np.ndarray, Tuple[int, int]]]: ...
def collapse_onnx(
    path_in: str,
    path_out: str,
    method: str = "auto",
    accumulate: str = "f32",
    objective: str = "macs",
    force: bool = False,
) -> List[str]: ...
def collapse_graph(
    inputs: Sequence[Tuple[str, Sequence[int], bool, bool]],
    nodes: Sequence[Tuple[str, str, str, Sequence[str], Sequence[str], Dict[str, Any]]],
    initializers: Sequence[Tuple[str, np.ndarray]],
    values: Sequence[Tuple[str, Sequence[int], bool, bool]],
    outputs: Sequence[str],
    cuttable: Set[str],
    objective: str = "macs",
    force: bool = False,
    build: bool = True,
    accumulate: str = "f64",
    opset: int = 17,
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], Dict[str, Any], str]: ...
