"""The bad-input catalogue: every module refuses bad input with a specific exception whose
message names the problem, and leaves the inputs' `.data` and `.grad` as they were.

Each row builds its own fresh inputs, so one case cannot disturb another. `CATALOGUE` is
plain data: a later evidence page can render it as a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import backprop.tensor as bt
from backprop import (
    Tensor,
    Value,
    datasets,
    draw,
    gradcheck,
    losses,
    nn,
    numerical_derivative,
    optim,
)
from backprop.tensor import cross_entropy, where


@dataclass(frozen=True)
class Case:
    module: str
    what: str
    make: Callable[[], tuple[Callable[[], Any], list[Any]]]  # (the call, inputs to watch)
    error: type[BaseException]
    match: str  # a regex the message must contain: it names the problem


def call(f: Callable[..., Any], *inputs: Any) -> Callable[[], tuple[Callable[[], Any], list]]:
    """A case whose watched inputs are made fresh each time by `inputs` factories."""

    def make() -> tuple[Callable[[], Any], list]:
        made = [i() for i in inputs]
        return (lambda: f(*made)), made

    return make


def v(x: float = 1.5) -> Callable[[], Value]:
    return lambda: Value(x)


def t(x: Any, grad: bool = True) -> Callable[[], Tensor]:
    return lambda: Tensor(np.asarray(x, dtype=float), requires_grad=grad)


def backward_of(y: Callable[[Tensor], Tensor], grad: Any = None) -> Callable[[Tensor], Any]:
    return lambda x: y(x).backward(grad)


CATALOGUE = [
    # ------------------------------------------------------------------ scalar engine
    Case("Value", "a string", call(lambda: Value("x")), TypeError, r"real number.*str: 'x'"),
    Case("Value", "None", call(lambda: Value(None)), TypeError, r"real number.*NoneType"),
    Case("Value", "a complex number", call(lambda: Value(1 + 2j)), TypeError, r"complex"),
    Case("Value", "a bool", call(lambda: Value(True)), TypeError, r"got bool"),
    Case("Value", "NaN", call(lambda: Value(float("nan"))), ValueError, r"finite, got nan"),
    Case("Value", "infinity", call(lambda: Value(float("inf"))), ValueError, r"finite, got inf"),
    Case("Value", "a label that is not a str", call(lambda: Value(1.0, 5)), TypeError, r"label"),
    Case("Value", "plus a string", call(lambda a: a + "x", v()), TypeError, r"'Value' and 'str'"),
    Case("Value", "log of 0", call(lambda a: a.log(), v(0.0)), ValueError, r"non-positive.*0\.0"),
    Case(
        "Value",
        "negative base, fractional power",
        call(lambda a: a**0.5, v(-2.0)),
        ValueError,
        r"negative base.*-2\.0 \*\* 0\.5",
    ),
    Case(
        "Value",
        "division by zero",
        call(lambda a, b: a / b, v(), v(0.0)),
        ZeroDivisionError,
        r"division by zero: 1\.5 / 0\.0",
    ),
    Case("Value", "exp overflow", call(lambda a: a.exp(), v(1000.0)), OverflowError, r"exp\(1000"),
    Case(
        "Value",
        "mixed with a Tensor",
        call(lambda a, b: a + b, v(), t([1.0])),
        TypeError,
        r"cannot mix a Tensor with a scalar-engine Value",
    ),
    Case(
        "Value",
        "gradient through sqrt at 0",
        call(lambda a: (a**0.5).backward(), v(0.0)),
        ValueError,
        r"does not exist",
    ),
    Case(
        "Value",
        "Value.sum of a number",
        call(lambda: Value.sum(5)),
        TypeError,
        r"Value\.sum: values must be a list.*got int: 5",
    ),
    Case(
        "Value",
        "Value.dot of a number",
        call(lambda a: Value.dot(5, [a]), v()),
        TypeError,
        r"Value\.dot: ws must be a list.*got int: 5",
    ),
    Case(
        "Value",
        "Value.dot of one Value",
        call(lambda a, b: Value.dot([a], b), v(), v()),
        TypeError,
        r"Value\.dot: xs must be a list.*got Value",
    ),
    Case(
        "Value",
        "Value.logsumexp of a number",
        call(lambda: Value.logsumexp(5)),
        TypeError,
        r"Value\.logsumexp: values must be a list.*got int: 5",
    ),
    Case(
        "Value",
        "Value.from_op with children that are a number",
        call(lambda: Value.from_op(1.0, 5, [1.0], "f")),
        TypeError,
        r"children must be a list.*got int: 5",
    ),
    # ------------------------------------------------------------------ tensor engine
    Case("Tensor", "a string", call(lambda: Tensor("abc")), TypeError, r"real numbers.*<U3"),
    Case("Tensor", "None", call(lambda: Tensor(None)), TypeError, r"NoneType"),
    Case("Tensor", "complex numbers", call(lambda: Tensor([1j])), TypeError, r"complex128"),
    Case("Tensor", "objects", call(lambda: Tensor([object()])), TypeError, r"type object"),
    Case(
        "Tensor",
        "a ragged list",
        call(lambda: Tensor([[1.0], [1.0, 2.0]])),
        TypeError,
        r"real numbers.*\[\[1\.0\], \[1\.0, 2\.0\]\]",
    ),
    Case("Tensor", "float16", call(lambda: Tensor(np.ones(2, np.float16))), TypeError, r"float16"),
    Case(
        "Tensor",
        "NaN entries",
        call(lambda: Tensor([1.0, np.nan])),
        ValueError,
        r"finite: 1 of 2 entries",
    ),
    Case(
        "Tensor",
        "integers requiring gradients",
        call(lambda: Tensor([1, 2], requires_grad=True)),
        TypeError,
        r"int64",
    ),
    Case(
        "Tensor",
        "shapes that do not broadcast",
        call(lambda a, b: a + b, t(np.ones((2, 3))), t(np.ones(4))),
        ValueError,
        r"\+: shapes \(2, 3\) and \(4,\) do not broadcast",
    ),
    Case(
        "Tensor",
        "shapes that do not multiply",
        call(lambda a, b: a @ b, t(np.ones((2, 3))), t(np.ones((4, 2)))),
        ValueError,
        r"@: shapes \(2, 3\) and \(4, 2\)",
    ),
    Case(
        "Tensor",
        "backward() of a non-scalar without grad",
        call(backward_of(lambda x: x * 2), t([1.0, 2.0])),
        RuntimeError,
        r"needs grad= for a tensor of shape \(2,\)",
    ),
    Case(
        "Tensor",
        "backward() with a grad of the wrong shape",
        call(backward_of(lambda x: x * 2, np.ones(3)), t([1.0, 2.0])),
        ValueError,
        r"needs shape \(2,\).*got \(3,\)",
    ),
    Case(
        "Tensor",
        "log of negative entries",
        call(lambda a: a.log(), t([-1.0, 2.0, -3.0])),
        ValueError,
        r"log of non-positive entries: 2 of 3",
    ),
    Case(
        "Tensor",
        "sqrt of negative entries",
        call(lambda a: a.sqrt(), t([-1.0, 4.0])),
        ValueError,
        r"sqrt of negative entries: 1 of 2",
    ),
    Case(
        "Tensor",
        "division by zero",
        call(lambda a, b: a / b, t([1.0, 2.0]), t([0.0, 1.0])),
        ZeroDivisionError,
        r"division by zero in 1 of 2",
    ),
    Case(
        "Tensor",
        "mixed with a Value",
        call(lambda a, b: a + b, t([1.0]), v()),
        TypeError,
        r"cannot mix a Tensor with a scalar-engine Value",
    ),
    Case(
        "Tensor",
        "an axis out of range",
        call(lambda a: a.sum(axis=2), t(np.ones((2, 3)))),
        ValueError,
        r"sum: axis 2 is out of range",
    ),
    Case(
        "Tensor",
        "an empty mean",
        call(lambda a: a.mean(axis=0), t(np.ones((0, 3)))),
        ValueError,
        r"empty axis.*\(0, 3\)",
    ),
    Case(
        "Tensor",
        "gradient of log overflowing",
        call(backward_of(lambda x: x.log(), np.ones(2)), t([5e-324, 1.0])),
        OverflowError,
        r"log",
    ),
    Case(
        "Tensor",
        "cross_entropy labels out of range",
        call(lambda z: cross_entropy(z, [0, 3]), t(np.ones((2, 3)))),
        ValueError,
        r"labels must be in \[0, 3\), got \[3\]",
    ),
    Case(
        "Tensor",
        "cross_entropy labels as floats",
        call(lambda z: cross_entropy(z, [0.0, 1.0]), t(np.ones((2, 3)))),
        TypeError,
        r"integers.*float64",
    ),
    Case(
        "Tensor",
        "cross_entropy with too few labels",
        call(lambda z: cross_entropy(z, [0]), t(np.ones((2, 3)))),
        ValueError,
        r"expected 2 labels",
    ),
    Case(
        "Tensor",
        "sum over an empty tuple of axes",
        call(lambda a: a.sum(()), t(np.ones((2, 3)))),
        ValueError,
        r"sum: an empty tuple of axes is ambiguous",
    ),
    Case(
        "Tensor",
        "max(dim=...), which in PyTorch also returns indices",
        call(lambda a: a.max(dim=1), t(np.ones((2, 3)))),
        TypeError,
        r"max\(dim=...\) in PyTorch returns the values and their indices.*amax",
    ),
    Case(
        "Tensor",
        "transpose given a whole order",
        call(lambda a: a.transpose(2, 0, 1), t(np.ones((2, 3, 4)))),
        TypeError,
        r"transpose\(dim0, dim1\) swaps two axes.*permute",
    ),
    Case(
        "Tensor",
        "permute with an axis twice",
        call(lambda a: a.permute(0, 0), t(np.ones((2, 3)))),
        ValueError,
        r"permute: dims \(0, 0\) are not a permutation.*\(2, 3\)",
    ),
    Case(
        "Tensor",
        "unsqueeze out of range",
        call(lambda a: a.unsqueeze(3), t(np.ones((2, 3)))),
        ValueError,
        r"unsqueeze: dim 3 is out of range.*from -3 to 2",
    ),
    Case(
        "Tensor",
        "expand an axis that is not of size 1",
        call(lambda a: a.expand(4, 3), t(np.ones((2, 3)))),
        ValueError,
        r"expand: shape \(2, 3\) cannot be expanded to \(4, 3\)",
    ),
    Case(
        "Tensor",
        "masked_fill with a float mask",
        call(lambda a: a.masked_fill(np.ones((2, 3)), 0.0), t(np.ones((2, 3)))),
        TypeError,
        r"masked_fill: the mask must be bool.*float64",
    ),
    Case(
        "Tensor",
        "masked_fill with a mask that does not broadcast",
        call(lambda a: a.masked_fill(np.ones(4, bool), 0.0), t(np.ones((2, 3)))),
        ValueError,
        r"masked_fill: a mask of shape \(4,\) does not broadcast.*\(2, 3\)",
    ),
    Case(
        "Tensor",
        "where with shapes that do not broadcast",
        call(lambda a, b: where(a > 0, a, b), t(np.ones((2, 3))), t(np.ones(4))),
        ValueError,
        r"where: shapes \(2, 3\) \(condition\), \(2, 3\) and \(4,\) do not broadcast",
    ),
    Case(
        "Tensor",
        "argmax of an empty tensor",
        call(lambda a: a.argmax(), t(np.ones((0, 3)))),
        ValueError,
        r"argmax of an empty tensor",
    ),
    Case(
        "Tensor",
        "the truth of a tensor of several entries",
        call(lambda a: bool(a == a), t(np.ones((2, 3)))),
        RuntimeError,
        r"truth value of a tensor of shape \(2, 3\) is ambiguous.*\.all\(\)",
    ),
    Case(
        "Tensor",
        "gather with a float index",
        call(lambda a: a.gather(1, np.zeros((2, 3))), t(np.ones((2, 3)))),
        TypeError,
        r"gather: index must be integers.*float64",
    ),
    Case(
        "Tensor",
        "gather out of range",
        call(lambda a: a.gather(1, np.array([[0, 3], [1, 1]])), t(np.ones((2, 3)))),
        IndexError,
        r"gather: indices \[3\] are out of range for dim 1 of size 3",
    ),
    Case(
        "Tensor",
        "pad with an odd number of widths",
        call(lambda a: bt.pad(a, (1, 2, 3)), t(np.ones((2, 3)))),
        ValueError,
        r"pad: needs \(before, after\) pairs.*\(1, 2, 3\)",
    ),
    Case(
        "Tensor",
        "one_hot with a label too large",
        call(lambda: bt.one_hot([0, 4], 3)),
        ValueError,
        r"one_hot: label 4 does not fit 3 classes",
    ),
    Case(
        "Tensor",
        "var with no degrees of freedom",
        call(lambda a: a.var(dim=0), t(np.ones((1, 3)))),
        ValueError,
        r"var: 1 entries with correction=1 leave no degrees of freedom",
    ),
    Case(
        "Tensor",
        "cross_entropy with label_smoothing above 1",
        call(lambda z: cross_entropy(z, [0, 1], label_smoothing=1.5), t(np.ones((2, 3)))),
        ValueError,
        r"label_smoothing must be in \[0, 1\], got 1.5",
    ),
    Case(
        "Tensor",
        "cross_entropy with every target ignored",
        call(lambda z: cross_entropy(z, [-100, -100]), t(np.ones((2, 3)))),
        ValueError,
        r"every target is ignore_index",
    ),
    Case(
        "Tensor",
        "cross_entropy with an unknown reduction",
        call(lambda z: cross_entropy(z, [0, 1], reduction="avg"), t(np.ones((2, 3)))),
        ValueError,
        r"reduction must be 'mean', 'sum' or 'none', got 'avg'",
    ),
    Case(
        "Tensor",
        "mse_loss of (n, 1) against (n,)",
        call(lambda x: bt.mse_loss(x, np.zeros(4)), t(np.ones((4, 1)))),
        ValueError,
        r"mse_loss: prediction of shape \(4, 1\) and target of shape \(4,\) differ.*\(4, 4\)",
    ),
    Case(
        "Tensor",
        "binary cross-entropy with a target above 1",
        call(lambda z: bt.binary_cross_entropy_with_logits(z, np.full(3, 2.0)), t(np.ones(3))),
        ValueError,
        r"targets must be in \[0, 1\]",
    ),
    Case(
        "Tensor",
        "nll_loss with float labels",
        call(lambda p: bt.nll_loss(p, [0.0, 1.0]), t(np.zeros((2, 3)))),
        TypeError,
        r"nll_loss: labels must be integers.*float64",
    ),
    Case(
        "Tensor",
        "split sizes that do not add up",
        call(lambda a: a.split([1, 1], dim=1), t(np.ones((2, 3)))),
        ValueError,
        r"split: sizes \[1, 1\] must be non-negative and add up to 3",
    ),
    Case(
        "Tensor",
        "arange with step 0",
        call(lambda: bt.arange(0, 3, 0)),
        ValueError,
        r"arange: step must not be 0",
    ),
    Case(
        "Tensor",
        "zeros of a negative size",
        call(lambda: bt.zeros(2, -1)),
        ValueError,
        r"zeros: sizes must be non-negative ints, got \(2, -1\)",
    ),
    Case(
        "Tensor",
        "randn with a string seed",
        call(lambda: bt.randn(2, seed="0")),
        TypeError,
        r"seed must be an int, a numpy Generator or None, got '0'",
    ),
    Case(
        "Tensor",
        "leaky_relu with a string slope",
        call(lambda a: a.leaky_relu("0.1"), t(np.ones(3))),
        TypeError,
        r"leaky_relu: negative_slope must be a real number, got '0.1'",
    ),
    Case(
        "Tensor",
        "rsqrt of zero",
        call(lambda a: a.rsqrt(), t(np.zeros(3))),
        ValueError,
        r"rsqrt of non-positive entries: 3 of 3",
    ),
    Case(
        "Tensor",
        "a cast to complex",
        call(lambda a: a.to(np.complex128), t(np.ones(3))),
        TypeError,
        r"to: dtype must be float32, float64, an integer or bool, got complex128",
    ),
    # ------------------------------------------------------------------ nn
    Case(
        "nn",
        "Linear fed the wrong width",
        call(lambda: nn.Linear(3, 4, seed=0)(np.ones((2, 5)))),
        ValueError,
        r"Linear\(3, 4\) expects inputs with 3 features.*\(2, 5\)",
    ),
    Case("nn", "a layer of size 0", call(lambda: nn.Linear(0, 4)), ValueError, r"got 0"),
    Case(
        "nn",
        "an unknown activation",
        call(lambda: nn.MLP(2, [3], activation="gelu")),
        ValueError,
        r"'gelu'",
    ),
    Case(
        "nn",
        "a neuron given too few inputs",
        call(lambda: nn.Neuron(3, seed=0)([1.0, 2.0])),
        ValueError,
        r"expected 3 inputs, got 2",
    ),
    Case(
        "nn",
        "Sequential given a class",
        call(lambda: nn.Sequential(nn.ReLU)),
        TypeError,
        r"parenthese",
    ),
    Case(
        "nn",
        "layer sizes that are a number",
        call(lambda: nn.MLP(2, 16)),
        TypeError,
        r"nouts must be a list of layer sizes.*got int: 16",
    ),
    Case(
        "nn",
        "an input that is a number",
        call(lambda: nn.MLP(2, [3], seed=0)(5)),
        TypeError,
        r"input must be a list of 2 Values or numbers, got int: 5",
    ),
    Case(
        "nn",
        "a layer input that is one Value",
        call(lambda a: nn.Layer(1, 3, seed=0)(a), v()),
        TypeError,
        r"input must be a list of 1 Values or numbers, got Value",
    ),
    Case(
        "nn",
        "set_parameters given a number",
        call(lambda: nn.Neuron(2, seed=0).set_parameters(5)),
        TypeError,
        r"set_parameters takes a list of values.*got int",
    ),
    # ------------------------------------------------------------------ optim
    Case("optim", "no parameters", call(lambda: optim.SGD([], lr=0.1)), ValueError, r"empty"),
    Case(
        "optim",
        "a negative learning rate",
        call(lambda p: optim.SGD([p], lr=-1), v()),
        ValueError,
        r"lr must be in .*got -1\.0",
    ),
    Case(
        "optim",
        "a learning rate as a string",
        call(lambda p: optim.SGD([p], lr="0.1"), v()),
        TypeError,
        r"lr must be a real number, got str",
    ),
    Case(
        "optim",
        "a NaN learning rate",
        call(lambda p: optim.Adam([p], lr=float("nan")), v()),
        ValueError,
        r"got nan",
    ),
    Case(
        "optim",
        "momentum of 1",
        call(lambda p: optim.SGD([p], lr=0.1, momentum=1.0), v()),
        ValueError,
        r"momentum must be in .*got 1\.0",
    ),
    Case(
        "optim",
        "a number as a parameter",
        call(lambda: optim.SGD([1.0], lr=0.1)),
        TypeError,
        r"got float",
    ),
    Case(
        "optim",
        "a tensor that needs no gradient",
        call(lambda p: optim.SGD([p], lr=0.1), t([1.0], grad=False)),
        ValueError,
        r"does not require gradients",
    ),
    Case(
        "optim",
        "parameters that are one Value",
        call(lambda a: optim.SGD(a, lr=0.1), v()),
        TypeError,
        r"params must be a list of parameters.*got Value",
    ),
    Case(
        "optim",
        "betas that are a number",
        call(lambda a: optim.Adam([a], betas=0.9), v()),
        TypeError,
        r"betas must be a pair \(beta1, beta2\), got float: 0\.9",
    ),
    # ------------------------------------------------------------------ losses
    Case(
        "losses",
        "predictions and targets of different lengths",
        call(lambda p: losses.mse([p], [1.0, 2.0]), v()),
        ValueError,
        r"1 predictions but 2 targets",
    ),
    Case(
        "losses",
        "a hinge target of 0",
        call(lambda p: losses.hinge([p], [0]), v()),
        ValueError,
        r"in \(-1, 1\), got 0",
    ),
    Case(
        "losses",
        "a binary target of 2",
        call(lambda p: losses.binary_cross_entropy_with_logits([p], [2]), v()),
        ValueError,
        r"got 2",
    ),
    Case(
        "losses",
        "a class label out of range",
        call(lambda a, b: losses.softmax_cross_entropy([[a, b]], [2]), v(), v()),
        ValueError,
        r"class indices in \[0, 2\), got 2",
    ),
    Case(
        "losses",
        "a class label that is a string",
        call(lambda a, b: losses.softmax_cross_entropy([[a, b]], ["a"]), v(), v()),
        ValueError,
        r"got 'a'",
    ),
    Case(
        "losses",
        "an empty batch",
        call(lambda: losses.mse([], [])),
        ValueError,
        r"at least one example",
    ),
    Case(
        "losses",
        "logits that are not a list of lists",
        call(lambda a, b: losses.softmax_cross_entropy([a, b], [0, 1]), v(), v()),
        TypeError,
        r"logits\[0\] must be a list of class scores.*got Value",
    ),
    Case(
        "losses",
        "logits that are a number",
        call(lambda: losses.softmax_cross_entropy(5, [0])),
        TypeError,
        r"logits must be a list of lists of class scores.*got int: 5",
    ),
    Case(
        "losses",
        "an empty row of logits",
        call(lambda a: losses.softmax_cross_entropy([[a], []], [0, 0]), v()),
        ValueError,
        r"logits\[1\] is empty",
    ),
    Case(
        "losses",
        "a row of logits holding a string",
        call(lambda a: losses.softmax_cross_entropy([[a, "x"]], [0]), v()),
        TypeError,
        r"logits\[0\]\[1\] must be a Value or a real number, got str",
    ),
    Case(
        "losses",
        "predictions that are a number",
        call(lambda: losses.mse(5, [1.0])),
        TypeError,
        r"predictions must be a list of Values.*got int: 5",
    ),
    Case(
        "losses",
        "predictions nested one level too deep",
        call(lambda a: losses.mse([[a]], [1.0]), v()),
        TypeError,
        r"predictions\[0\] must be a Value or a real number, got list",
    ),
    Case(
        "losses",
        "a target that is a string",
        call(lambda a: losses.mse([a], ["1"]), v()),
        TypeError,
        r"targets\[0\] must be a Value or a real number, got str",
    ),
    Case(
        "losses",
        "hinge targets that are a number",
        call(lambda a: losses.hinge([a], 1), v()),
        TypeError,
        r"targets must be a list of numbers.*got int: 1",
    ),
    Case(
        "losses",
        "a hinge score that is a string",
        call(lambda: losses.hinge(["a"], [1])),
        TypeError,
        r"scores\[0\] must be a Value or a real number, got str",
    ),
    Case(
        "losses",
        "binary logits nested one level too deep",
        call(lambda a: losses.binary_cross_entropy_with_logits([[a]], [1]), v()),
        TypeError,
        r"logits\[0\] must be a Value, got list",
    ),
    Case(
        "losses",
        "l2 of a number",
        call(lambda: losses.l2(5)),
        TypeError,
        r"parameters must be an iterable of Values.*got int",
    ),
    Case(
        "losses",
        "l2 of a list holding a number",
        call(lambda a: losses.l2([a, 2.0]), v()),
        TypeError,
        r"parameters\[1\] must be a Value, got float",
    ),
    # ------------------------------------------------------------------ gradcheck
    Case(
        "gradcheck",
        "no inputs",
        call(lambda: gradcheck(lambda: Value(1.0), [])),
        ValueError,
        r"inputs is empty",
    ),
    Case(
        "gradcheck",
        "a step of 0",
        call(lambda a: gradcheck(lambda x: x * x, [a], eps=0), v()),
        ValueError,
        r"eps must be a positive finite step, got 0",
    ),
    Case(
        "gradcheck",
        "f returning a float",
        call(lambda a: gradcheck(lambda x: 1.0, [a]), v()),
        TypeError,
        r"f must return a Value, got float",
    ),
    Case(
        "gradcheck",
        "a string input",
        call(lambda: gradcheck(lambda x: x, ["x"])),
        TypeError,
        r"inputs\[0\].*got str 'x'",
    ),
    Case(
        "gradcheck",
        "f that is not callable",
        call(lambda a: gradcheck(5, [a]), v()),
        TypeError,
        r"f must be a function \(callable\).*got int: 5",
    ),
    Case(
        "gradcheck",
        "f that is a Value (the result, not the function)",
        call(lambda a: gradcheck(a * a, [a]), v()),
        TypeError,
        r"f must be a function \(callable\).*got Value",
    ),
    Case(
        "gradcheck",
        "numerical_derivative of something not callable",
        call(lambda: numerical_derivative(5, 1.0)),
        TypeError,
        r"f must be a function \(callable\).*got int: 5",
    ),
    # ------------------------------------------------------------------ draw
    Case("draw", "a plain number", call(lambda: draw(3.0)), TypeError, r"got float"),
    Case(
        "draw",
        "an unsupported direction",
        call(lambda a: draw(a, rankdir="TB"), v()),
        ValueError,
        r"rankdir='TB'",
    ),
    Case(
        "draw",
        "a negative precision",
        call(lambda a: draw(a, precision=-1), v()),
        ValueError,
        r"got -1",
    ),
    # ------------------------------------------------------------------ datasets
    Case("datasets", "no points", call(lambda: datasets.make_moons(0)), ValueError, r"got 0"),
    Case(
        "datasets",
        "a fractional number of points",
        call(lambda: datasets.make_moons(10.5)),
        TypeError,
        r"got float 10\.5",
    ),
    Case(
        "datasets",
        "negative noise",
        call(lambda: datasets.make_moons(10, noise=-1)),
        ValueError,
        r"noise.*got -1",
    ),
    Case(
        "datasets",
        "a string seed",
        call(lambda: datasets.make_moons(10, seed="a")),
        TypeError,
        r"seed must be an integer, got str",
    ),
]


def snapshot(items: list[Any]) -> list[tuple[Any, Any]]:
    out = []
    for x in items:
        if isinstance(x, Value):
            out.append((x.data, x.grad))
        elif isinstance(x, Tensor):
            out.append((x.data.copy(), None if x.grad is None else x.grad.copy()))
    return out


def same(a: list[tuple[Any, Any]], b: list[tuple[Any, Any]]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x[0], y[0])
        and ((x[1] is None and y[1] is None) or (x[1] is not None and np.array_equal(x[1], y[1])))
        for x, y in zip(a, b, strict=True)
    )


def test_the_catalogue_spans_every_module_with_at_least_40_cases() -> None:
    assert len(CATALOGUE) >= 40
    modules = {c.module for c in CATALOGUE}
    assert {"Value", "Tensor", "nn", "optim", "losses", "gradcheck", "draw", "datasets"} <= modules


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: f"{c.module}: {c.what}")
def test_bad_input_is_refused_clearly_and_changes_nothing(case: Case) -> None:
    run, watched = case.make()
    before = snapshot(watched)
    with pytest.raises(case.error, match=case.match) as caught:
        run()
    assert type(caught.value) is case.error or issubclass(type(caught.value), case.error)
    assert same(snapshot(watched), before), "the inputs changed"
