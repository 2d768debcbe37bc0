"""backprop: a small, readable reference autograd engine.

The guide at the root of this repository teaches backpropagation by building this
engine; every code block of the guide runs against it under pytest.

The scalar engine and what it uses (`Value`, `nn`'s `Neuron`/`Layer`/`MLP`, `optim`,
`losses`, `gradcheck`, `draw`) need only the standard library. The tensor engine
(`Tensor`, `no_grad`, the module `tensor`) and `datasets` need numpy; without it, using
them raises an `ImportError` that says so.
"""

from typing import Any

from backprop import losses, nn, optim
from backprop._numpy import missing
from backprop._numpy import numpy as _numpy
from backprop.draw import draw
from backprop.gradcheck import GradcheckError, gradcheck, numerical_derivative
from backprop.scalar import Value, topological_order

if _numpy is not None:
    from backprop import datasets, tensor
    from backprop.tensor import Tensor, no_grad

__all__ = [
    "GradcheckError",
    "Tensor",
    "Value",
    "datasets",
    "draw",
    "gradcheck",
    "losses",
    "nn",
    "no_grad",
    "numerical_derivative",
    "optim",
    "tensor",
    "topological_order",
]
__version__ = "0.1.0"

_NEED_NUMPY = {"Tensor", "no_grad", "tensor", "datasets"}


def __getattr__(name: str) -> Any:
    """Only reached without numpy, for the names that need it: a clear ImportError."""
    if name in _NEED_NUMPY:
        raise missing(f"backprop.{name}")
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")
