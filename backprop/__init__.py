"""backprop: a small, readable reference autograd engine.

The guide at the root of this repository teaches backpropagation by building this
engine; every code block of the guide runs against it under pytest.
"""

from backprop import datasets, losses, nn, optim
from backprop.draw import draw
from backprop.gradcheck import GradcheckError, gradcheck, numerical_derivative
from backprop.scalar import Value, topological_order

__all__ = [
    "GradcheckError",
    "Value",
    "datasets",
    "draw",
    "gradcheck",
    "losses",
    "nn",
    "numerical_derivative",
    "optim",
    "topological_order",
]
__version__ = "0.1.0"
