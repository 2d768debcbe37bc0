"""backprop: a small, readable reference autograd engine.

The guide at the root of this repository teaches backpropagation by building this
engine; every code block of the guide runs against it under pytest.
"""

from backprop import datasets, losses, nn, optim, tensor
from backprop.draw import draw
from backprop.gradcheck import GradcheckError, gradcheck, numerical_derivative
from backprop.scalar import Value, topological_order
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
