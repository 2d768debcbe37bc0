"""numpy if it is installed, else `None`: the tensor engine needs it, the scalar engine not.

The modules shared by both engines (`nn`, `optim`, `gradcheck`) import numpy and
`Tensor` through here, so that `import backprop` and the scalar engine work where numpy
is absent (Python in the browser, say). Without numpy, `NoTensor` stands in for `Tensor`:
no object is an instance of it, so the shared code takes its scalar paths, and making one
raises the error of `missing`.
"""

from __future__ import annotations

from types import ModuleType

numpy: ModuleType | None
try:
    import numpy
except ModuleNotFoundError as error:  # only numpy's own absence; other errors propagate
    if error.name != "numpy":
        raise
    numpy = None


def missing(what: str) -> ImportError:
    """The error for using `what`, which needs numpy, where numpy is not installed."""
    return ImportError(
        f"{what} needs numpy, which is not installed (pip install numpy); the scalar "
        "engine works without it: Value, nn.Neuron/Layer/MLP, optim, losses, gradcheck "
        "and draw",
        name="numpy",
    )


class NoTensor:
    """In place of `backprop.tensor.Tensor` without numpy: creating one raises ImportError."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise missing("backprop.Tensor")
