"""Every operation of both engines, listed once.

This catalogue is the single source for three things that must never disagree:

- the [reference table of local derivatives](../reference/ops.md), printed from it while
  the site is built;
- the coverage tests (`tests/test_coverage.py`), which check each entry three ways: its
  gradient against central differences (`gradcheck`), its value and gradient against the
  formulas written here, and both against PyTorch in float64, always with a random,
  non-uniform upstream gradient;
- the completeness check, `missing_operations`, which fails when an engine has an operation
  the catalogue does not list (or the other way round).

Each entry says how the operation is written (`code`), its forward formula and its local
derivatives (LaTeX), how to build it from the engine's inputs (`make`), the same formulas on
plain floats or arrays (`value`, `partials` / `grads`), where to check it, and how to write
it in PyTorch (`torch`). Importing this module needs numpy; PyTorch is imported only when a
`torch` entry is called.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from backprop import Value
from backprop.tensor import (
    Tensor,
    arange,
    avg_pool2d,
    batch_norm,
    binary_cross_entropy_with_logits,
    concatenate,
    conv2d,
    cross_entropy,
    dropout,
    embedding,
    eye,
    full,
    full_like,
    layer_norm,
    linear,
    max_pool2d,
    maximum,
    minimum,
    mse_loss,
    nll_loss,
    one_hot,
    ones,
    ones_like,
    pad,
    rand,
    rand_like,
    randn,
    randn_like,
    scaled_dot_product_attention,
    stack,
    where,
    zeros,
    zeros_like,
)

__all__ = [
    "SCALAR_OPS",
    "TENSOR_OPS",
    "ScalarOp",
    "TensorOp",
    "missing_operations",
    "tensor_inputs",
]


def _torch() -> ModuleType:
    import torch

    return torch


def _functional() -> ModuleType:
    import torch.nn.functional

    return torch.nn.functional


def sigmoid(t: float) -> float:
    """The logistic function on a float, written as in the table."""
    return 1 / (1 + math.exp(-t))


def softmax(a: np.ndarray) -> np.ndarray:
    """Softmax along the last axis, on a numpy array."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def d(x: str) -> str:
    """The LaTeX for the gradient of the loss with respect to `x`."""
    return rf"\partial L/\partial {x}"


@dataclass(frozen=True)
class ScalarOp:
    """One operation of `Value`: how it is written, its formulas, and how to check it."""

    name: str  # the method or operator that creates it
    code: str  # how it is written
    forward: str  # y = ... (LaTeX)
    local: str | tuple[str, ...]  # the local derivatives (LaTeX), one per kind of operand
    make: Callable  # builds y from Values
    value: Callable  # the forward formula, on floats
    partials: Callable  # the local derivatives, on floats
    points: list[tuple[float, ...]]  # where to check
    note: str = ""
    torch: Callable = field(kw_only=True)  # the same operation on PyTorch tensors

    @property
    def id(self) -> str:
        """A name for this entry that no other entry has, for test ids and reports."""
        return f"{self.name}-{self.code}"


@dataclass(frozen=True)
class TensorOp:
    """One operation of `Tensor`: how it is written, its formulas, and how to check it."""

    name: str  # the method, operator or function of the engine
    code: str  # how it is written
    forward: str  # Y = ... (LaTeX)
    vjp: str | tuple[str, ...]  # the gradient of each input (LaTeX)
    make: Callable  # builds Y from Tensors
    value: Callable  # the forward formula, on numpy arrays
    grads: Callable  # the VJP formula: (G, *arrays) -> one gradient per input
    shapes: tuple[tuple[int, ...], ...]  # the shapes of the inputs to check at
    note: str = ""
    draw: str = "normal"  # or "positive", or "nonzero" for the last input
    torch: Callable = field(kw_only=True)  # the same operation on PyTorch tensors
    # False for an operation whose result has no gradient (a comparison, an index): its
    # result is checked against the formula and PyTorch, and must be outside the graph.
    differentiable: bool = field(default=True, kw_only=True)
    # False where central differences cannot see the rule (a cast to float32 rounds below
    # their resolution): the gradient is still checked against the formula and PyTorch.
    finite_differences: bool = field(default=True, kw_only=True)
    # False for random tensors: PyTorch's generator differs, so only shape and dtype agree.
    torch_values: bool = field(default=True, kw_only=True)

    @property
    def id(self) -> str:
        """A name for this entry that no other entry has: `@` has a row per kind of operand."""
        shapes = ",".join("x".join(map(str, s)) for s in self.shapes)
        return f"{self.name}-{self.code}-{shapes}"


U = r"\operatorname{unbroadcast}"
T = r"^\mathsf{T}"
LABELS = np.array([2, 0, 1])  # the class of each row, for cross_entropy

SCALAR_OPS: list[ScalarOp] = [
    ScalarOp(
        "__add__",
        "a + b",
        "a + b",
        (r"\partial y/\partial a = 1", r"\partial y/\partial b = 1"),
        lambda a, b: a + b,
        lambda a, b: a + b,
        lambda a, b: (1, 1),
        [(1.5, -2.0), (0.0, 3.0)],
        torch=lambda a, b: a + b,
    ),
    ScalarOp(
        "__sub__",
        "a - b",
        "a - b",
        (r"\partial y/\partial a = 1", r"\partial y/\partial b = -1"),
        lambda a, b: a - b,
        lambda a, b: a - b,
        lambda a, b: (1, -1),
        [(1.5, -2.0), (0.0, 3.0)],
        torch=lambda a, b: a - b,
    ),
    ScalarOp(
        "__neg__",
        "-a",
        "-a",
        r"\partial y/\partial a = -1",
        lambda a: -a,
        lambda a: -a,
        lambda a: (-1,),
        [(2.5,), (-1.0,)],
        torch=lambda a: -a,
    ),
    ScalarOp(
        "__mul__",
        "a * b",
        r"a \cdot b",
        (r"\partial y/\partial a = b", r"\partial y/\partial b = a"),
        lambda a, b: a * b,
        lambda a, b: a * b,
        lambda a, b: (b, a),
        [(1.5, -2.0), (0.25, 3.0)],
        torch=lambda a, b: a * b,
    ),
    ScalarOp(
        "__truediv__",
        "a / b",
        r"a / b",
        (r"\partial y/\partial a = 1/b", r"\partial y/\partial b = -a/b^2"),
        lambda a, b: a / b,
        lambda a, b: a / b,
        lambda a, b: (1 / b, -a / b**2),
        [(1.5, -2.0), (3.0, 0.5)],
        "`b = 0` raises `ZeroDivisionError`",
        torch=lambda a, b: a / b,
    ),
    ScalarOp(
        "__pow__",
        "a ** n",
        r"a^n",
        r"\partial y/\partial a = n\,a^{n-1}",
        lambda a: a**3,
        lambda a: a**3,
        lambda a: (3 * a**2,),
        [(1.5,), (-2.0,)],
        "`n` a plain number, shown here with `n = 3`; "
        "`a < 0` with a non-integer `n` raises `ValueError`",
        torch=lambda a: a**3,
    ),
    ScalarOp(
        "__pow__",
        "a ** b",
        r"a^b",
        (r"\partial y/\partial a = b\,a^{b-1}", r"\partial y/\partial b = a^b \ln a"),
        lambda a, b: a**b,
        lambda a, b: a**b,
        lambda a, b: (b * a ** (b - 1), a**b * math.log(a)),
        [(1.5, 2.5), (0.5, -1.0)],
        "both `Value`s; $\\partial y/\\partial b$ is taken as 0 "
        "at `a = 0` and does not exist for `a < 0`",
        torch=lambda a, b: a**b,
    ),
    ScalarOp(
        "exp",
        "a.exp()",
        r"e^a",
        r"\partial y/\partial a = e^a",
        lambda a: a.exp(),
        math.exp,
        lambda a: (math.exp(a),),
        [(0.5,), (-2.0,)],
        "`a > 709.78` raises `OverflowError`",
        torch=lambda a: a.exp(),
    ),
    ScalarOp(
        "log",
        "a.log()",
        r"\ln a",
        r"\partial y/\partial a = 1/a",
        lambda a: a.log(),
        math.log,
        lambda a: (1 / a,),
        [(0.5,), (4.0,)],
        "`a <= 0` raises `ValueError`",
        torch=lambda a: a.log(),
    ),
    ScalarOp(
        "tanh",
        "a.tanh()",
        r"\tanh a",
        r"\partial y/\partial a = 1 - \tanh^2 a",
        lambda a: a.tanh(),
        math.tanh,
        lambda a: (1 - math.tanh(a) ** 2,),
        [(0.5,), (-2.0,)],
        torch=lambda a: a.tanh(),
    ),
    ScalarOp(
        "sigmoid",
        "a.sigmoid()",
        r"\sigma(a) = \frac{1}{1 + e^{-a}}",
        r"\partial y/\partial a = \sigma(a)\,(1 - \sigma(a))",
        lambda a: a.sigmoid(),
        sigmoid,
        lambda a: (sigmoid(a) * (1 - sigmoid(a)),),
        [(0.5,), (-2.0,)],
        torch=lambda a: a.sigmoid(),
    ),
    ScalarOp(
        "softplus",
        "a.softplus()",
        r"\ln(1 + e^a)",
        r"\partial y/\partial a = \sigma(a)",
        lambda a: a.softplus(),
        lambda a: math.log1p(math.exp(a)),
        lambda a: (sigmoid(a),),
        [(0.5,), (-2.0,)],
        torch=lambda a: _functional().softplus(a),
    ),
    ScalarOp(
        "relu",
        "a.relu()",
        r"\max(0, a)",
        r"\partial y/\partial a = 1 \text{ if } a > 0 \text{, else } 0",
        lambda a: a.relu(),
        lambda a: max(0.0, a),
        lambda a: (1.0 if a > 0 else 0.0,),
        [(0.5,), (-2.0,)],
        "the derivative at the kink `a = 0` is taken as 0",
        torch=lambda a: a.relu(),
    ),
    ScalarOp(
        "sum",
        "Value.sum([v1, ..., vn])",
        r"v_1 + \dots + v_n",
        r"\partial y/\partial v_i = 1",
        lambda *v: Value.sum(v),
        lambda *v: sum(v),
        lambda *v: (1,) * len(v),
        [(1.5, -2.0, 0.25)],
        "one node; an optional `start` is added first",
        torch=lambda *v: _torch().stack(v).sum(),
    ),
    ScalarOp(
        "dot",
        "Value.dot([w1, ..., wn], [x1, ..., xn], start=b)",
        r"b + w_1 x_1 + \dots + w_n x_n",
        (
            r"\partial y/\partial w_i = x_i",
            r"\partial y/\partial x_i = w_i",
            r"\partial y/\partial b = 1",
        ),
        lambda b, w1, x1, w2, x2: Value.dot([w1, w2], [x1, x2], start=b),
        lambda b, w1, x1, w2, x2: b + w1 * x1 + w2 * x2,
        lambda b, w1, x1, w2, x2: (1, x1, w1, x2, w2),
        [(0.5, 1.5, -2.0, 0.25, 3.0)],
        "one node; different lengths raise `ValueError`",
        torch=lambda b, w1, x1, w2, x2: b + _torch().stack([w1, w2]) @ _torch().stack([x1, x2]),
    ),
    ScalarOp(
        "logsumexp",
        "Value.logsumexp([v1, ..., vn])",
        r"\ln \textstyle\sum_j e^{v_j}",
        r"\partial y/\partial v_i = e^{v_i} / \textstyle\sum_j e^{v_j}",
        lambda *v: Value.logsumexp(v),
        lambda *v: math.log(sum(math.exp(t) for t in v)),
        lambda *v: tuple(math.exp(t) / sum(math.exp(s) for s in v) for t in v),
        [(1.5, -2.0, 0.25)],
        "one node, computed without overflow",
        torch=lambda *v: _torch().logsumexp(_torch().stack(v), dim=0),
    ),
]

TENSOR_OPS: list[TensorOp] = [
    TensorOp(
        "__add__",
        "a + b",
        "A + B",
        (rf"{d('A')} = {U}_A(G)", rf"{d('B')} = {U}_B(G)"),
        lambda a, b: a + b,
        lambda a, b: a + b,
        lambda g, a, b: (g, g.sum(axis=0)),
        ((3, 4), (4,)),
        "`b` broadcast over the rows, so its gradient sums them",
        torch=lambda a, b: a + b,
    ),
    TensorOp(
        "__sub__",
        "a - b",
        "A - B",
        (rf"{d('A')} = {U}_A(G)", rf"{d('B')} = {U}_B(-G)"),
        lambda a, b: a - b,
        lambda a, b: a - b,
        lambda g, a, b: (g.sum(axis=1, keepdims=True), -g.sum(axis=0)),
        ((3, 1), (4,)),
        "both broadcast, each gradient summed back",
        torch=lambda a, b: a - b,
    ),
    TensorOp(
        "__mul__",
        "a * b",
        r"A \odot B",
        (rf"{d('A')} = {U}_A(G \odot B)", rf"{d('B')} = {U}_B(G \odot A)"),
        lambda a, b: a * b,
        lambda a, b: a * b,
        lambda g, a, b: (g * b, (g * a).sum(axis=1, keepdims=True)),
        ((3, 4), (3, 1)),
        torch=lambda a, b: a * b,
    ),
    TensorOp(
        "__truediv__",
        "a / b",
        "A / B",
        (rf"{d('A')} = {U}_A(G / B)", rf"{d('B')} = {U}_B(-G \odot A / B^2)"),
        lambda a, b: a / b,
        lambda a, b: a / b,
        lambda g, a, b: (g / b, (-g * a / b**2).sum(axis=0)),
        ((3, 4), (4,)),
        "a zero in `b` raises `ZeroDivisionError`",
        "nonzero",
        torch=lambda a, b: a / b,
    ),
    TensorOp(
        "__pow__",
        "a ** n",
        "A^n",
        rf"{d('A')} = G \odot n A^{{n-1}}",
        lambda a: a**3,
        lambda a: a**3,
        lambda g, a: (g * 3 * a**2,),
        ((3, 4),),
        "`n` a number, here 3",
        torch=lambda a: a**3,
    ),
    TensorOp(
        "__pow__",
        "a ** b",
        "A^B",
        (rf"{d('A')} = {U}_A(G \odot B A^{{B-1}})", rf"{d('B')} = {U}_B(G \odot A^B \ln A)"),
        lambda a, b: a**b,
        lambda a, b: a**b,
        lambda g, a, b: (
            (g * b * a ** (b - 1)).sum(axis=1, keepdims=True),
            (g * a**b * np.log(a)).sum(axis=0),
        ),
        ((3, 1), (4,)),
        "both tensors, both broadcast here; the gradient of `b` is taken as 0 where `a = 0`; "
        "a negative `a` "
        "with a non-integer `b` raises `ValueError`",
        "positive",
        torch=lambda a, b: a**b,
    ),
    TensorOp(
        "__eq__",
        "a == a[0]",
        r"Y_{ij} = [A_{ij} = A_{0j}]",
        r"\text{none: outside the graph}",
        lambda a: a == a[0],
        lambda a: a == a[0],
        lambda g, *arrays: tuple(None for _ in arrays),
        ((3, 4),),
        "entry by entry, here against the first row (broadcast); a bool tensor",
        torch=lambda a: a == a[0],
        differentiable=False,
    ),
    TensorOp(
        "__ne__",
        "a != a[0]",
        r"Y_{ij} = [A_{ij} \ne A_{0j}]",
        r"\text{none: outside the graph}",
        lambda a: a != a[0],
        lambda a: a != a[0],
        lambda g, *arrays: tuple(None for _ in arrays),
        ((3, 4),),
        "entry by entry, here against the first row (broadcast); a bool tensor",
        torch=lambda a: a != a[0],
        differentiable=False,
    ),
    TensorOp(
        "__lt__",
        "a < b",
        r"Y_{ij} = [A_{ij} < B_j]",
        r"\text{none: outside the graph}",
        lambda a, b: a < b,
        lambda a, b: a < b,
        lambda g, *arrays: tuple(None for _ in arrays),
        ((3, 4), (4,)),
        "entry by entry, broadcasting; a bool tensor",
        torch=lambda a, b: a < b,
        differentiable=False,
    ),
    TensorOp(
        "__le__",
        "a <= b",
        r"Y_{ij} = [A_{ij} \le B_j]",
        r"\text{none: outside the graph}",
        lambda a, b: a <= b,
        lambda a, b: a <= b,
        lambda g, *arrays: tuple(None for _ in arrays),
        ((3, 4), (4,)),
        "entry by entry, broadcasting; a bool tensor",
        torch=lambda a, b: a <= b,
        differentiable=False,
    ),
    TensorOp(
        "__gt__",
        "a > b",
        r"Y_{ij} = [A_{ij} > B_j]",
        r"\text{none: outside the graph}",
        lambda a, b: a > b,
        lambda a, b: a > b,
        lambda g, *arrays: tuple(None for _ in arrays),
        ((3, 4), (4,)),
        "entry by entry, broadcasting; a bool tensor",
        torch=lambda a, b: a > b,
        differentiable=False,
    ),
    TensorOp(
        "__ge__",
        "a >= b",
        r"Y_{ij} = [A_{ij} \ge B_j]",
        r"\text{none: outside the graph}",
        lambda a, b: a >= b,
        lambda a, b: a >= b,
        lambda g, *arrays: tuple(None for _ in arrays),
        ((3, 4), (4,)),
        "entry by entry, broadcasting; a bool tensor",
        torch=lambda a, b: a >= b,
        differentiable=False,
    ),
    TensorOp(
        "all",
        "(a > 0).all(dim=1)",
        r"Y_i = \textstyle\bigwedge_j [A_{ij} > 0]",
        r"\text{none: outside the graph}",
        lambda a: (a > 0).all(dim=1),
        lambda a: np.array([all(v > 0 for v in row) for row in a]),
        lambda g, a: (None,),
        ((3, 4),),
        "whether every entry is nonzero (true), along `axis`/`dim` or over all",
        torch=lambda a: (a > 0).all(dim=1),
        differentiable=False,
    ),
    TensorOp(
        "any",
        "(a > 1).any()",
        r"Y = \textstyle\bigvee_{ij} [A_{ij} > 1]",
        r"\text{none: outside the graph}",
        lambda a: (a > 1).any(),
        lambda a: np.array(any(v > 1 for v in a.ravel())),
        lambda g, a: (None,),
        ((3, 4),),
        "whether some entry is nonzero (true)",
        torch=lambda a: (a > 1).any(),
        differentiable=False,
    ),
    TensorOp(
        "__neg__",
        "-a",
        "-A",
        rf"{d('A')} = -G",
        lambda a: -a,
        lambda a: -a,
        lambda g, a: (-g,),
        ((3, 4),),
        torch=lambda a: -a,
    ),
    TensorOp(
        "exp",
        "a.exp()",
        "e^A",
        rf"{d('A')} = G \odot e^A",
        lambda a: a.exp(),
        np.exp,
        lambda g, a: (g * np.exp(a),),
        ((3, 4),),
        "overflow raises `OverflowError`",
        torch=lambda a: a.exp(),
    ),
    TensorOp(
        "log",
        "a.log()",
        r"\ln A",
        rf"{d('A')} = G / A",
        lambda a: a.log(),
        np.log,
        lambda g, a: (g / a,),
        ((3, 4),),
        "an entry `<= 0` raises `ValueError`",
        "positive",
        torch=lambda a: a.log(),
    ),
    TensorOp(
        "sqrt",
        "a.sqrt()",
        r"\sqrt{A}",
        rf"{d('A')} = G / (2\sqrt{{A}})",
        lambda a: a.sqrt(),
        np.sqrt,
        lambda g, a: (g / (2 * np.sqrt(a)),),
        ((3, 4),),
        "a negative entry raises `ValueError`, and so does a nonzero gradient reaching "
        "an entry `a = 0`",
        "positive",
        torch=lambda a: a.sqrt(),
    ),
    TensorOp(
        "tanh",
        "a.tanh()",
        r"\tanh A",
        rf"{d('A')} = G \odot (1 - \tanh^2 A)",
        lambda a: a.tanh(),
        np.tanh,
        lambda g, a: (g * (1 - np.tanh(a) ** 2),),
        ((3, 4),),
        torch=lambda a: a.tanh(),
    ),
    TensorOp(
        "sigmoid",
        "a.sigmoid()",
        r"\sigma(A) = 1 / (1 + e^{-A})",
        rf"{d('A')} = G \odot \sigma(A) \odot (1 - \sigma(A))",
        lambda a: a.sigmoid(),
        lambda a: 1 / (1 + np.exp(-a)),
        lambda g, a: (g * np.exp(-a) / (1 + np.exp(-a)) ** 2,),
        ((3, 4),),
        "no overflow for any finite `a`",
        torch=lambda a: a.sigmoid(),
    ),
    TensorOp(
        "relu",
        "a.relu()",
        r"\max(0, A)",
        rf"{d('A')} = G \odot [A > 0]",
        lambda a: a.relu(),
        lambda a: np.where(a > 0, a, 0.0),
        lambda g, a: (g * (a > 0),),
        ((3, 4),),
        "0 at the kink `a = 0`",
        torch=lambda a: a.relu(),
    ),
    TensorOp(
        "abs",
        "a.abs(), abs(a)",
        r"\lvert A \rvert",
        rf"{d('A')} = G \odot \operatorname{{sign}}(A)",
        lambda a: abs(a),
        lambda a: np.where(a > 0, a, -a),
        lambda g, a: (g * np.where(a > 0, 1.0, -1.0),),
        ((3, 4),),
        "0 at the kink `a = 0`",
        torch=lambda a: abs(a),
    ),
    TensorOp(
        "clip",
        "a.clip(low, high)",
        r"\min(\max(A, l), h)",
        rf"{d('A')} = G \odot [l \le A \le h]",
        lambda a: a.clip(-0.5, 0.5),
        lambda a: np.minimum(np.maximum(a, -0.5), 0.5),
        lambda g, a: (g * ((a >= -0.5) & (a <= 0.5)),),
        ((3, 4),),
        "here `low = -0.5`, `high = 0.5`; either may be left out; at a bound the gradient passes",
        torch=lambda a: a.clamp(-0.5, 0.5),
    ),
    TensorOp(
        "maximum",
        "maximum(a, b)",
        r"\max(A, B)",
        (rf"{d('A')} = {U}_A(G \odot [A > B])", rf"{d('B')} = {U}_B(G \odot [A < B])"),
        maximum,
        lambda a, b: np.where(a > b, a, b),
        lambda g, a, b: ((g * (a > b)).sum(axis=1, keepdims=True), (g * (a < b)).sum(axis=0)),
        ((3, 1), (4,)),
        "entry by entry, both broadcast here; at a tie each side gets $G/2$",
        torch=lambda a, b: _torch().maximum(a, b),
    ),
    TensorOp(
        "minimum",
        "minimum(a, b)",
        r"\min(A, B)",
        (rf"{d('A')} = {U}_A(G \odot [A < B])", rf"{d('B')} = {U}_B(G \odot [A > B])"),
        minimum,
        lambda a, b: np.where(a < b, a, b),
        lambda g, a, b: ((g * (a < b)).sum(axis=1, keepdims=True), (g * (a > b)).sum(axis=0)),
        ((3, 1), (4,)),
        "entry by entry, both broadcast here; at a tie each side gets $G/2$",
        torch=lambda a, b: _torch().minimum(a, b),
    ),
    TensorOp(
        "where",
        "where(a > a.mean(), a, b)",
        r"Y = A \text{ where } C, \text{ else } B",
        (rf"{d('A')} = {U}_A(G \odot [C])", rf"{d('B')} = {U}_B(G \odot [\lnot C])"),
        lambda a, b: where(a > a.mean(), a, b),
        lambda a, b: np.where(a > a.mean(), a, b),
        lambda g, a, b: (
            (g * (a > a.mean())).sum(axis=1, keepdims=True),
            (g * (a <= a.mean())).sum(axis=0),
        ),
        ((3, 1), (4,)),
        "$C$ a bool condition, here $A > \\bar A$ (some entries each way, whatever the "
        "draw); the three broadcast (here `a` and `b` both do)",
        torch=lambda a, b: _torch().where(a > a.mean(), a, b),
    ),
    TensorOp(
        "masked_fill",
        "a.masked_fill(a < 0, 0.5)",
        r"Y = v \text{ where } M, \text{ else } A",
        rf"{d('A')} = G \odot [\lnot M]",
        lambda a: a.masked_fill(a < 0, 0.5),
        lambda a: np.where(a < 0, 0.5, a),
        lambda g, a: (g * (a >= 0),),
        ((3, 4),),
        "$M$ a bool mask, here $A < 0$, $v$ a number, here 0.5",
        torch=lambda a: a.masked_fill(a < 0, 0.5),
    ),
    TensorOp(
        "__matmul__",
        "a @ b",
        "AB",
        (rf"{d('A')} = G B{T}", rf"{d('B')} = A{T} G"),
        lambda a, b: a @ b,
        lambda a, b: np.einsum("ij,jk->ik", a, b),
        lambda g, a, b: (g @ b.T, a.T @ g),
        ((3, 4), (4, 2)),
        "two matrices ([page 14](../tutorial/14-matrix-gradients.md))",
        torch=lambda a, b: a @ b,
    ),
    TensorOp(
        "__matmul__",
        "a @ b",
        rf"a{T} B",
        (rf"{d('a')} = B g", rf"{d('B')} = a g{T}"),
        lambda a, b: a @ b,
        lambda a, b: np.einsum("j,jk->k", a, b),
        lambda g, a, b: (b @ g, np.outer(a, g)),
        ((4,), (4, 2)),
        "a vector and a matrix",
        torch=lambda a, b: a @ b,
    ),
    TensorOp(
        "__matmul__",
        "a @ b",
        "A b",
        (rf"{d('A')} = g b{T}", rf"{d('b')} = A{T} g"),
        lambda a, b: a @ b,
        lambda a, b: np.einsum("ij,j->i", a, b),
        lambda g, a, b: (np.outer(g, b), a.T @ g),
        ((3, 4), (4,)),
        "a matrix and a vector",
        torch=lambda a, b: a @ b,
    ),
    TensorOp(
        "__matmul__",
        "a @ b",
        r"a \cdot b",
        (rf"{d('a')} = g\, b", rf"{d('b')} = g\, a"),
        lambda a, b: a @ b,
        lambda a, b: np.sum(a * b),
        lambda g, a, b: (g * b, g * a),
        ((4,), (4,)),
        "two vectors: $Y$ is one number",
        torch=lambda a, b: a @ b,
    ),
    TensorOp(
        "__matmul__",
        "a @ b",
        r"Y_k = A_k B",
        (rf"{d('A_k')} = G_k B{T}", rf"{d('B')} = \textstyle\sum_k A_k{T} G_k"),
        lambda a, b: a @ b,
        lambda a, b: np.einsum("kij,jl->kil", a, b),
        lambda g, a, b: (g @ b.T, np.einsum("kij,kil->jl", a, g)),
        ((2, 3, 4), (4, 2)),
        "a batch of matrices $A_k$: batch axes broadcast, and are summed back",
        torch=lambda a, b: a @ b,
    ),
    TensorOp(
        "matmul",
        "a.matmul(b)",
        "AB",
        (rf"{d('A')} = G B{T}", rf"{d('B')} = A{T} G"),
        lambda a, b: a.matmul(b),
        lambda a, b: np.einsum("ij,jk->ik", a, b),
        lambda g, a, b: (g @ b.T, a.T @ g),
        ((3, 4), (4, 2)),
        "`a @ b` as a method, as in PyTorch",
        torch=lambda a, b: a.matmul(b),
    ),
    TensorOp(
        "sum",
        "a.sum()",
        r"\textstyle\sum_{ij} A_{ij}",
        rf"{d('A_{ij}')} = g",
        lambda a: a.sum(),
        lambda a: sum(a.ravel().tolist()),
        lambda g, a: (np.full(a.shape, g),),
        ((3, 4),),
        "all axes",
        torch=lambda a: a.sum(),
    ),
    TensorOp(
        "sum",
        "a.sum(axis=0)",
        r"Y_j = \textstyle\sum_i A_{ij}",
        rf"{d('A_{ij}')} = G_j",
        lambda a: a.sum(axis=0),
        lambda a: a[0] + a[1] + a[2],
        lambda g, a: (np.tile(g, (3, 1)),),
        ((3, 4),),
        "any `axis` or tuple of axes; `keepdims=True` keeps them with size 1",
        torch=lambda a: a.sum(dim=0),
    ),
    TensorOp(
        "mean",
        "a.mean(axis=1, keepdims=True)",
        r"Y_{i1} = \tfrac{1}{n} \textstyle\sum_j A_{ij}",
        rf"{d('A_{ij}')} = G_{{i1}} / n",
        lambda a: a.mean(axis=1, keepdims=True),
        lambda a: a.sum(axis=1, keepdims=True) / 4,
        lambda g, a: (np.tile(g / 4, (1, 4)),),
        ((3, 4),),
        "$n$ the number of entries averaged, here 4; any `axis`, `keepdims`",
        torch=lambda a: a.mean(dim=1, keepdim=True),
    ),
    TensorOp(
        "max",
        "a.max(axis=1)",
        r"Y_i = \max_j A_{ij}",
        rf"{d('A_{ij}')} = G_i\,[A_{{ij}} = Y_i]",
        lambda a: a.max(axis=1),
        lambda a: np.array([max(row) for row in a]),
        lambda g, a: (g[:, None] * (a == a.max(axis=1, keepdims=True)),),
        ((3, 4),),
        "any `axis`, `keepdims`; tied maxima share $G_i$ equally",
        torch=lambda a: a.amax(dim=1),
    ),
    TensorOp(
        "min",
        "a.min(axis=0)",
        r"Y_j = \min_i A_{ij}",
        rf"{d('A_{ij}')} = G_j\,[A_{{ij}} = Y_j]",
        lambda a: a.min(axis=0),
        lambda a: np.array([min(col) for col in a.T]),
        lambda g, a: (g[None, :] * (a == a.min(axis=0, keepdims=True)),),
        ((3, 4),),
        "numpy's `min`, PyTorch's `amin`; `min(dim=...)`, which in PyTorch also returns "
        "indices, is refused with a message",
        torch=lambda a: a.amin(dim=0),
    ),
    TensorOp(
        "amax",
        "a.amax(dim=1, keepdim=True)",
        r"Y_{i1} = \max_j A_{ij}",
        rf"{d('A_{ij}')} = G_{{i1}}\,[A_{{ij}} = Y_{{i1}}]",
        lambda a: a.amax(dim=1, keepdim=True),
        lambda a: np.array([[max(row)] for row in a]),
        lambda g, a: (g * (a == a.max(axis=1, keepdims=True)),),
        ((3, 4),),
        "PyTorch's name and keywords; tied maxima share the gradient",
        torch=lambda a: a.amax(dim=1, keepdim=True),
    ),
    TensorOp(
        "amin",
        "a.amin(dim=(0, 1))",
        r"Y = \min_{ij} A_{ij}",
        rf"{d('A_{ij}')} = G\,[A_{{ij}} = Y]",
        lambda a: a.amin(dim=(0, 1)),
        lambda a: np.array(min(a.ravel().tolist())),
        lambda g, a: (g * (a == a.min()),),
        ((3, 4),),
        "PyTorch's name and keywords; tied minima share the gradient",
        torch=lambda a: a.amin(dim=(0, 1)),
    ),
    TensorOp(
        "argmax",
        "a.argmax(dim=1)",
        r"Y_i = \operatorname{argmax}_j A_{ij}",
        r"\text{none: an index, outside the graph}",
        lambda a: a.argmax(dim=1),
        lambda a: np.array([row.tolist().index(max(row)) for row in a]),
        lambda g, a: (None,),
        ((3, 4),),
        "int64; the first index among ties; no `dim`: of the flattened tensor",
        torch=lambda a: a.argmax(dim=1),
        differentiable=False,
    ),
    TensorOp(
        "argmin",
        "a.argmin(axis=0)",
        r"Y_j = \operatorname{argmin}_i A_{ij}",
        r"\text{none: an index, outside the graph}",
        lambda a: a.argmin(axis=0),
        lambda a: np.array([col.tolist().index(min(col)) for col in a.T]),
        lambda g, a: (None,),
        ((3, 4),),
        "int64; the first index among ties",
        torch=lambda a: a.argmin(dim=0),
        differentiable=False,
    ),
    TensorOp(
        "reshape",
        "a.reshape(2, 6)",
        r"A \text{ in a new shape}",
        rf"{d('A')} = G \text{{ in }} A\text{{'s shape}}",
        lambda a: a.reshape(2, 6),
        lambda a: np.array(a.ravel().tolist()).reshape(2, 6),
        lambda g, a: (g.reshape(a.shape),),
        ((3, 4),),
        torch=lambda a: a.reshape(2, 6),
    ),
    TensorOp(
        "view",
        "a.view(-1, 3)",
        r"A \text{ in a new shape}",
        rf"{d('A')} = G \text{{ in }} A\text{{'s shape}}",
        lambda a: a.view(-1, 3),
        lambda a: np.array(a.ravel().tolist()).reshape(4, 3),
        lambda g, a: (g.reshape(a.shape),),
        ((3, 4),),
        "PyTorch's name for `reshape`; it shares memory with `a` where numpy can",
        torch=lambda a: a.view(-1, 3),
    ),
    TensorOp(
        "permute",
        "a.permute(1, 2, 0)",
        r"Y_{jki} = A_{ijk}",
        rf"{d('A_{ijk}')} = G_{{jki}}",
        lambda a: a.permute(1, 2, 0),
        lambda a: np.einsum("ijk->jki", a),
        lambda g, a: (np.einsum("jki->ijk", g),),
        ((2, 3, 4),),
        "any order of all the axes (numpy's `transpose(axes)`)",
        torch=lambda a: a.permute(1, 2, 0),
    ),
    TensorOp(
        "transpose",
        "a.transpose(0, 2)",
        r"Y_{kji} = A_{ijk}",
        rf"{d('A_{ijk}')} = G_{{kji}}",
        lambda a: a.transpose(0, 2),
        lambda a: np.einsum("ijk->kji", a),
        lambda g, a: (np.einsum("kji->ijk", g),),
        ((2, 3, 4),),
        "two axes swapped, as in PyTorch (not numpy's whole order: that is `permute`); "
        "none given reverses all axes",
        torch=lambda a: a.transpose(0, 2),
    ),
    TensorOp(
        "flatten",
        "a.flatten(1)",
        r"Y_{i,\,4j+k} = A_{ijk}",
        rf"{d('A')} = G \text{{ in }} A\text{{'s shape}}",
        lambda a: a.flatten(1),
        lambda a: np.array([row.ravel().tolist() for row in a]),
        lambda g, a: (g.reshape(a.shape),),
        ((2, 3, 4),),
        "axes `start_dim` to `end_dim` merged, as in PyTorch",
        torch=lambda a: a.flatten(1),
    ),
    TensorOp(
        "squeeze",
        "a.squeeze(1)",
        r"Y_{ik} = A_{i0k}",
        rf"{d('A_{{i0k}}')} = G_{{ik}}",
        lambda a: a.squeeze(1),
        lambda a: a[:, 0, :],
        lambda g, a: (g[:, None, :],),
        ((3, 1, 4),),
        "axes of size 1 removed (all, or those given); an axis given whose size is not 1 "
        "stays, as in PyTorch",
        torch=lambda a: a.squeeze(1),
    ),
    TensorOp(
        "unsqueeze",
        "a.unsqueeze(-1)",
        r"Y_{ij0} = A_{ij}",
        rf"{d('A_{ij}')} = G_{{ij0}}",
        lambda a: a.unsqueeze(-1),
        lambda a: a[:, :, None],
        lambda g, a: (g[:, :, 0],),
        ((3, 4),),
        "a new axis of size 1",
        torch=lambda a: a.unsqueeze(-1),
    ),
    TensorOp(
        "expand",
        "a.expand(2, 3, 4)",
        r"Y_{kij} = A_{i0}",
        rf"{d('A_{{i0}}')} = \textstyle\sum_{{k,j}} G_{{kij}}",
        lambda a: a.expand(2, 3, 4),
        lambda a: np.array([[[a[i, 0]] * 4 for i in range(3)]] * 2),
        lambda g, a: (g.sum(axis=(0, 2))[:, None],),
        ((3, 1),),
        "axes of size 1 stretched, and new leading axes, without copying; -1 keeps a size",
        torch=lambda a: a.expand(2, 3, 4),
    ),
    TensorOp(
        "T",
        "a.T",
        rf"A{T}",
        rf"{d('A')} = G{T}",
        lambda a: a.T,
        lambda a: np.einsum("ij->ji", a),
        lambda g, a: (g.T,),
        ((3, 4),),
        "a property: all axes reversed",
        torch=lambda a: a.T,
    ),
    TensorOp(
        "__getitem__",
        "a[1:, ::2]",
        r"\text{the entries picked}",
        rf"{d('A')} = G \text{{ at the places picked, 0 elsewhere}}",
        lambda a: a[1:, ::2],
        lambda a: np.array([[a[i, j] for j in (0, 2)] for i in (1, 2)]),
        lambda g, a: (np.vstack([np.zeros(4), np.insert(g, [1, 2], 0.0, axis=1)]),),  # 0 between
        ((3, 4),),
        "slices, integers, `None`, `...`, as in numpy",
        torch=lambda a: a[1:, ::2],
    ),
    TensorOp(
        "__getitem__",
        "a[[0, 2, 0]]",
        r"\text{rows 0, 2 and 0 again}",
        rf"{d('A')} = \text{{each row's }} G\text{{s added up}}",
        lambda a: a[[0, 2, 0]],
        lambda a: np.stack([a[0], a[2], a[0]]),
        lambda g, a: (np.stack([g[0] + g[2], np.zeros(4), g[1]]),),
        ((3, 4),),
        "integer arrays and boolean masks; an entry picked twice gets both $G$s",
        torch=lambda a: a[[0, 2, 0]],
    ),
    TensorOp(
        "concatenate",
        "concatenate([a, b], axis=1)",
        r"[A \; B]",
        (rf"{d('A')} = G_{{:, :n}}", rf"{d('B')} = G_{{:, n:}}"),
        lambda a, b: concatenate([a, b], axis=1),
        lambda a, b: np.hstack([a, b]),
        lambda g, a, b: (g[:, :2], g[:, 2:]),
        ((3, 2), (3, 4)),
        "$n$ the width of `a`, here 2; any `axis`, any number of tensors",
        torch=lambda a, b: _torch().cat([a, b], dim=1),
    ),
    TensorOp(
        "stack",
        "stack([a, b])",
        r"Y_0 = A,\ Y_1 = B",
        (rf"{d('A')} = G_0", rf"{d('B')} = G_1"),
        lambda a, b: stack([a, b]),
        lambda a, b: np.array([a, b]),
        lambda g, a, b: (g[0], g[1]),
        ((3, 4), (3, 4)),
        "a new axis; any `axis`, any number of tensors",
        torch=lambda a, b: _torch().stack([a, b]),
    ),
    TensorOp(
        "softmax",
        "a.softmax()",
        r"S_{ij} = e^{A_{ij}} / \textstyle\sum_k e^{A_{ik}}",
        rf"{d('A_{ij}')} = S_{{ij}} \big(G_{{ij}} - \textstyle\sum_k G_{{ik}} S_{{ik}}\big)",
        lambda a: a.softmax(),
        lambda a: np.exp(a) / np.exp(a).sum(axis=1, keepdims=True),
        lambda g, a: (softmax(a) * (g - (g * softmax(a)).sum(axis=1, keepdims=True)),),
        ((3, 4),),
        "along `axis` (the last by default), without overflow",
        torch=lambda a: a.softmax(dim=-1),
    ),
    TensorOp(
        "log_softmax",
        "a.log_softmax()",
        r"A_{ij} - \ln \textstyle\sum_k e^{A_{ik}}",
        rf"{d('A_{ij}')} = G_{{ij}} - S_{{ij}} \textstyle\sum_k G_{{ik}}",
        lambda a: a.log_softmax(),
        lambda a: a - np.log(np.exp(a).sum(axis=1, keepdims=True)),
        lambda g, a: (g - softmax(a) * g.sum(axis=1, keepdims=True),),
        ((3, 4),),
        "$S$ the softmax; along `axis`, without overflow",
        torch=lambda a: a.log_softmax(dim=-1),
    ),
    TensorOp(
        "linear",
        "linear(x, w, b)",
        rf"X W{T} + b",
        (rf"{d('X')} = G W", rf"{d('W')} = G{T} X", rf"{d('b')} = \textstyle\sum_i G_{{i:}}"),
        linear,
        lambda x, w, b: np.einsum("ij,kj->ik", x, w) + b,
        lambda g, x, w, b: (g @ w, g.T @ x, g.sum(axis=0)),
        ((3, 4), (2, 4), (2,)),
        "one node; `w` of shape (out, in) as in PyTorch; `b` may be left out",
        torch=lambda x, w, b: _functional().linear(x, w, b),
    ),
    TensorOp(
        "cross_entropy",
        "cross_entropy(z, y)",
        r"\tfrac{1}{N} \textstyle\sum_i \big(\ln \sum_j e^{Z_{ij}} - Z_{i y_i}\big)",
        rf"{d('Z')} = \tfrac{{g}}{{N}} \big(S - \operatorname{{onehot}}(y)\big)",
        lambda z: cross_entropy(z, LABELS),
        lambda z: np.mean([np.log(np.exp(z[i]).sum()) - z[i, c] for i, c in enumerate(LABELS)]),
        lambda g, z: (g / 3 * (softmax(z) - np.eye(4)[LABELS]),),
        ((3, 4),),
        f"one node; `y` the integer class of each row, here {LABELS.tolist()}; $S$ the "
        "softmax of `z`; $N$ the number of rows",
        torch=lambda z: _functional().cross_entropy(z, _torch().from_numpy(LABELS)),
    ),
]


def _erf(a: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[float])(a)


def _phi(a: np.ndarray) -> np.ndarray:
    """The standard normal distribution function."""
    return 0.5 * (1 + _erf(a / math.sqrt(2)))


def _sig(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


ROWS = np.array([[0, 0, 3], [1, 2, 1], [3, 3, 0]])  # gather's index, a repeat in row 0
CLASSES_2D = np.array([[0, 2], [1, 1], [2, 0]])  # class indices for (3, 3, 2) logits
IGNORED = np.array([2, -100, 1])  # the second row is ignored
F64 = "float64"

TENSOR_OPS += [
    # ------------------------------------------------------------ elementwise
    TensorOp(
        "sin",
        "a.sin()",
        r"\sin A",
        rf"{d('A')} = G \odot \cos A",
        lambda a: a.sin(),
        np.sin,
        lambda g, a: (g * np.cos(a),),
        ((3, 4),),
        torch=lambda a: a.sin(),
    ),
    TensorOp(
        "cos",
        "a.cos()",
        r"\cos A",
        rf"{d('A')} = -G \odot \sin A",
        lambda a: a.cos(),
        np.cos,
        lambda g, a: (-g * np.sin(a),),
        ((3, 4),),
        torch=lambda a: a.cos(),
    ),
    TensorOp(
        "square",
        "a.square()",
        r"A \odot A",
        rf"{d('A')} = 2 G \odot A",
        lambda a: a.square(),
        lambda a: a * a,
        lambda g, a: (2 * g * a,),
        ((3, 4),),
        torch=lambda a: a.square(),
    ),
    TensorOp(
        "rsqrt",
        "a.rsqrt()",
        r"1 / \sqrt{A}",
        rf"{d('A')} = -\tfrac12 G \odot A^{{-3/2}}",
        lambda a: a.rsqrt(),
        lambda a: 1 / np.sqrt(a),
        lambda g, a: (-0.5 * g * a**-1.5,),
        ((3, 4),),
        "an entry `<= 0` raises `ValueError`",
        "positive",
        torch=lambda a: a.rsqrt(),
    ),
    TensorOp(
        "leaky_relu",
        "a.leaky_relu(0.1)",
        r"A \text{ where } A > 0, \text{ else } sA",
        rf"{d('A')} = G \odot (1 \text{{ where }} A > 0, \text{{ else }} s)",
        lambda a: a.leaky_relu(0.1),
        lambda a: np.where(a > 0, a, 0.1 * a),
        lambda g, a: (g * np.where(a > 0, 1.0, 0.1),),
        ((3, 4),),
        "$s$ the negative slope, here 0.1 (PyTorch's default 0.01); at 0 the slope is $s$",
        torch=lambda a: _functional().leaky_relu(a, 0.1),
    ),
    TensorOp(
        "elu",
        "a.elu()",
        r"A \text{ where } A > 0, \text{ else } \alpha(e^A - 1)",
        rf"{d('A')} = G \odot (1 \text{{ where }} A > 0, \text{{ else }} \alpha e^A)",
        lambda a: a.elu(),
        lambda a: np.where(a > 0, a, np.exp(a) - 1),
        lambda g, a: (g * np.where(a > 0, 1.0, np.exp(a)),),
        ((3, 4),),
        r"$\alpha = 1$ by default",
        torch=lambda a: _functional().elu(a),
    ),
    TensorOp(
        "softplus",
        "a.softplus()",
        r"\ln(1 + e^A)",
        rf"{d('A')} = G \odot \sigma(A)",
        lambda a: a.softplus(),
        lambda a: np.log(1 + np.exp(a)),
        lambda g, a: (g * _sig(a),),
        ((3, 4),),
        "no overflow for any finite `a`",
        torch=lambda a: _functional().softplus(a),
    ),
    TensorOp(
        "silu",
        "a.silu()",
        r"A \odot \sigma(A)",
        rf"{d('A')} = G \odot \sigma(A) \odot (1 + A \odot (1 - \sigma(A)))",
        lambda a: a.silu(),
        lambda a: a * _sig(a),
        lambda g, a: (g * _sig(a) * (1 + a * (1 - _sig(a))),),
        ((3, 4),),
        "also called swish",
        torch=lambda a: _functional().silu(a),
    ),
    TensorOp(
        "gelu",
        "a.gelu()",
        r"A \odot \Phi(A)",
        rf"{d('A')} = G \odot (\Phi(A) + A \odot \varphi(A))",
        lambda a: a.gelu(),
        lambda a: a * _phi(a),
        lambda g, a: (g * (_phi(a) + a * np.exp(-a * a / 2) / math.sqrt(2 * math.pi)),),
        ((3, 4),),
        r"$\Phi$ and $\varphi$ the standard normal's distribution and density "
        "(PyTorch's exact `gelu`, not the tanh approximation)",
        torch=lambda a: _functional().gelu(a),
    ),
    # ------------------------------------------------------------ reductions
    TensorOp(
        "var",
        "a.var(dim=1)",
        r"Y_i = \tfrac{1}{n - 1} \textstyle\sum_j (A_{ij} - \bar A_i)^2",
        rf"{d('A_{ij}')} = \tfrac{{2}}{{n - 1}} G_i (A_{{ij}} - \bar A_i)",
        lambda a: a.var(dim=1),
        lambda a: np.array([np.var(r, ddof=1) for r in a]),
        lambda g, a: (2 / 3 * g[:, None] * (a - a.mean(axis=1, keepdims=True)),),
        ((3, 4),),
        "PyTorch's `correction=1` by default (numpy's `var` uses 0); $n = 4$ here",
        torch=lambda a: a.var(dim=1),
    ),
    TensorOp(
        "std",
        "a.std(dim=0, correction=0)",
        r"Y_j = \sqrt{\tfrac{1}{n} \textstyle\sum_i (A_{ij} - \bar A_j)^2}",
        rf"{d('A_{ij}')} = G_j (A_{{ij}} - \bar A_j) / (n Y_j)",
        lambda a: a.std(dim=0, correction=0),
        lambda a: np.array([np.std(c) for c in a.T]),
        lambda g, a: (g * (a - a.mean(axis=0)) / (3 * a.std(axis=0)),),
        ((3, 4),),
        "`sqrt(var(...))`, any `correction`; $n = 3$ here",
        torch=lambda a: a.std(dim=0, correction=0),
    ),
    TensorOp(
        "logsumexp",
        "a.logsumexp(dim=1)",
        r"Y_i = \ln \textstyle\sum_j e^{A_{ij}}",
        rf"{d('A_{ij}')} = G_i S_{{ij}}",
        lambda a: a.logsumexp(dim=1),
        lambda a: np.log(np.exp(a).sum(axis=1)),
        lambda g, a: (g[:, None] * softmax(a),),
        ((3, 4),),
        "$S$ the softmax; without overflow",
        torch=lambda a: a.logsumexp(dim=1),
    ),
    TensorOp(
        "prod",
        "a.prod(dim=1)",
        r"Y_i = \textstyle\prod_j A_{ij}",
        rf"{d('A_{ij}')} = G_i \textstyle\prod_{{k \ne j}} A_{{ik}}",
        lambda a: a.prod(dim=1),
        lambda a: np.array([math.prod(r) for r in a.tolist()]),
        lambda g, a: (
            np.array(
                [
                    [g[i] * math.prod(a[i, k] for k in range(4) if k != j) for j in range(4)]
                    for i in range(3)
                ]
            ),
        ),
        ((3, 4),),
        "computed without dividing, so zeros are fine",
        torch=lambda a: a.prod(dim=1),
    ),
    TensorOp(
        "cumsum",
        "a.cumsum(1)",
        r"Y_{ij} = \textstyle\sum_{k \le j} A_{ik}",
        rf"{d('A_{ik}')} = \textstyle\sum_{{j \ge k}} G_{{ij}}",
        lambda a: a.cumsum(1),
        lambda a: np.array([np.cumsum(r) for r in a]),
        lambda g, a: (np.array([[g[i, k:].sum() for k in range(4)] for i in range(3)]),),
        ((3, 4),),
        "running sums along `dim`",
        torch=lambda a: a.cumsum(1),
    ),
    # ------------------------------------------------------------ indexing, shapes
    TensorOp(
        "gather",
        "a.gather(1, index)",
        r"Y_{ij} = A_{i,\, I_{ij}}",
        rf"{d('A_{ik}')} = \textstyle\sum_{{j: I_{{ij}} = k}} G_{{ij}}",
        lambda a: a.gather(1, ROWS),
        lambda a: np.array([[a[i, k] for k in ROWS[i]] for i in range(3)]),
        lambda g, a: (
            np.array(
                [
                    [sum(g[i, j] for j in range(3) if ROWS[i, j] == k) for k in range(4)]
                    for i in range(3)
                ]
            ),
        ),
        ((3, 4),),
        f"$I$ the index, here {ROWS.tolist()}; an entry gathered twice gets both $G$s",
        torch=lambda a: a.gather(1, _torch().from_numpy(ROWS)),
    ),
    TensorOp(
        "flip",
        "a.flip(0, 1)",
        r"Y_{ij} = A_{m-1-i,\, n-1-j}",
        rf"{d('A')} = G \text{{ flipped back}}",
        lambda a: a.flip(0, 1),
        lambda a: a[::-1, ::-1],
        lambda g, a: (g[::-1, ::-1],),
        ((3, 4),),
        torch=lambda a: a.flip((0, 1)),
    ),
    TensorOp(
        "repeat",
        "a.repeat(2, 1)",
        r"[A; A]",
        rf"{d('A')} = G_{{:m}} + G_{{m:}}",
        lambda a: a.repeat(2, 1),
        lambda a: np.vstack([a, a]),
        lambda g, a: (g[:3] + g[3:],),
        ((3, 4),),
        "tiles (numpy's `tile`); the gradient adds the tiles' $G$s; $m = 3$ here",
        torch=lambda a: a.repeat(2, 1),
    ),
    TensorOp(
        "split",
        "a.split(3, dim=1)[1]",
        r"A_{:, 3:}",
        rf"{d('A')} = G \text{{ in columns 3 on, 0 elsewhere}}",
        lambda a: a.split(3, dim=1)[1],
        lambda a: a[:, 3:],
        lambda g, a: (np.hstack([np.zeros((3, 3)), g]),),
        ((3, 4),),
        "pieces of `split_size` (the last shorter) or of listed sizes; each piece is an index",
        torch=lambda a: a.split(3, dim=1)[1],
    ),
    TensorOp(
        "chunk",
        "a.chunk(2)[0]",
        r"A_{:2}",
        rf"{d('A')} = G \text{{ in rows 0 and 1, 0 elsewhere}}",
        lambda a: a.chunk(2)[0],
        lambda a: a[:2],
        lambda g, a: (np.vstack([g, np.zeros((1, 4))]),),
        ((3, 4),),
        "`chunks` pieces of $\\lceil n / \\text{chunks} \\rceil$ entries (the last shorter)",
        torch=lambda a: a.chunk(2)[0],
    ),
    TensorOp(
        "to",
        "a.to(np.float32)",
        r"A \text{ rounded to float32}",
        rf"{d('A')} = G \text{{ rounded to float32}}",
        lambda a: a.to(np.float32),
        lambda a: a.astype(np.float32),
        lambda g, a: (g.astype(np.float32).astype(np.float64),),
        ((3, 4),),
        "between floats the gradient flows back; to an integer or bool no gradient",
        torch=lambda a: a.to(_torch().float32),
        finite_differences=False,
    ),
    TensorOp(
        "float",
        "a.float()",
        r"A \text{ rounded to float32}",
        rf"{d('A')} = G \text{{ rounded to float32}}",
        lambda a: a.float(),
        lambda a: a.astype(np.float32),
        lambda g, a: (g.astype(np.float32).astype(np.float64),),
        ((3, 4),),
        "`to(float32)`",
        torch=lambda a: a.float(),
        finite_differences=False,
    ),
    TensorOp(
        "double",
        "a.float().double()",
        r"A \text{ through float32}",
        rf"{d('A')} = G \text{{ rounded to float32}}",
        lambda a: a.float().double(),
        lambda a: a.astype(np.float32).astype(np.float64),
        lambda g, a: (g.astype(np.float32).astype(np.float64),),
        ((3, 4),),
        "`to(float64)`",
        torch=lambda a: a.float().double(),
        finite_differences=False,
    ),
    TensorOp(
        "long",
        "a.long()",
        r"A \text{ truncated to int64}",
        r"\text{none: outside the graph}",
        lambda a: a.long(),
        lambda a: np.trunc(a).astype(np.int64),
        lambda g, a: (None,),
        ((3, 4),),
        "towards zero, as in PyTorch",
        torch=lambda a: a.long(),
        differentiable=False,
    ),
    TensorOp(
        "pad",
        "pad(a, (1, 2))",
        r"[v \; A \; v \; v]",
        rf"{d('A')} = G_{{:, 1:-2}}",
        lambda a: pad(a, (1, 2)),
        lambda a: np.pad(a, ((0, 0), (1, 2))),
        lambda g, a: (g[:, 1:-2],),
        ((3, 4),),
        "(before, after) widths, last axis first, as PyTorch's `F.pad`; $v$ the value, here 0",
        torch=lambda a: _functional().pad(a, (1, 2)),
    ),
    TensorOp(
        "one_hot",
        "one_hot(labels, 4)",
        r"Y_{ic} = [y_i = c]",
        r"\text{none: outside the graph}",
        lambda: one_hot(LABELS, 4),
        lambda: np.eye(4, dtype=np.int64)[LABELS],
        lambda g: (),
        (),
        f"int64, as in PyTorch; here `labels` = {LABELS.tolist()}",
        torch=lambda: _functional().one_hot(_torch().from_numpy(LABELS), 4),
        differentiable=False,
    ),
    # ------------------------------------------------------------ creation
    *(
        TensorOp(
            name,
            code,
            forward,
            r"\text{none: a new leaf}",
            make,
            value,
            lambda g: (),
            (),
            note,
            torch=torch_,
            differentiable=False,
            torch_values=exact,
        )
        for name, code, forward, make, value, torch_, note, exact in [
            (
                "zeros",
                "zeros(2, 3)",
                r"0",
                lambda: zeros(2, 3),
                lambda: np.zeros((2, 3)),
                lambda: _torch().zeros(2, 3, dtype=_torch().float64),
                "float64 by default",
                True,
            ),
            (
                "ones",
                "ones(2, 3)",
                r"1",
                lambda: ones(2, 3),
                lambda: np.ones((2, 3)),
                lambda: _torch().ones(2, 3, dtype=_torch().float64),
                "",
                True,
            ),
            (
                "full",
                "full((2, 3), 0.5)",
                r"v",
                lambda: full((2, 3), 0.5),
                lambda: np.full((2, 3), 0.5),
                lambda: _torch().full((2, 3), 0.5, dtype=_torch().float64),
                "",
                True,
            ),
            (
                "arange",
                "arange(1, 10, 3)",
                r"1, 4, 7",
                lambda: arange(1, 10, 3),
                lambda: np.array([1, 4, 7]),
                lambda: _torch().arange(1, 10, 3),
                "int64 for integers, float64 for floats",
                True,
            ),
            (
                "eye",
                "eye(3)",
                r"I",
                lambda: eye(3),
                lambda: np.eye(3),
                lambda: _torch().eye(3, dtype=_torch().float64),
                "",
                True,
            ),
            (
                "randn",
                "randn(2, 3, seed=0)",
                r"\sim \mathcal{N}(0, 1)",
                lambda: randn(2, 3, seed=0),
                lambda: np.random.default_rng(0).standard_normal((2, 3)),
                lambda: _torch().randn(2, 3, dtype=_torch().float64),
                "numpy's `default_rng(seed)`: not PyTorch's numbers",
                False,
            ),
            (
                "rand",
                "rand(2, 3, seed=0)",
                r"\sim U[0, 1)",
                lambda: rand(2, 3, seed=0),
                lambda: np.random.default_rng(0).random((2, 3)),
                lambda: _torch().rand(2, 3, dtype=_torch().float64),
                "numpy's `default_rng(seed)`",
                False,
            ),
        ]
    ),
    *(
        TensorOp(
            name,
            code,
            forward,
            r"\text{none: a new leaf}",
            make,
            value,
            lambda g, a: (None,),
            ((3, 4),),
            note,
            torch=torch_,
            differentiable=False,
            torch_values=exact,
        )
        for name, code, forward, make, value, torch_, note, exact in [
            (
                "zeros_like",
                "zeros_like(a)",
                r"0",
                zeros_like,
                np.zeros_like,
                lambda a: _torch().zeros_like(a),
                "`a`'s shape and dtype",
                True,
            ),
            (
                "ones_like",
                "ones_like(a)",
                r"1",
                ones_like,
                np.ones_like,
                lambda a: _torch().ones_like(a),
                "",
                True,
            ),
            (
                "full_like",
                "full_like(a, 2.0)",
                r"v",
                lambda a: full_like(a, 2.0),
                lambda a: np.full_like(a, 2.0),
                lambda a: _torch().full_like(a, 2.0),
                "",
                True,
            ),
            (
                "randn_like",
                "randn_like(a, seed=1)",
                r"\sim \mathcal{N}(0, 1)",
                lambda a: randn_like(a, seed=1),
                lambda a: np.random.default_rng(1).standard_normal(a.shape),
                lambda a: _torch().randn_like(a),
                "from a seeded Generator",
                False,
            ),
            (
                "rand_like",
                "rand_like(a, seed=1)",
                r"\sim U[0, 1)",
                lambda a: rand_like(a, seed=1),
                lambda a: np.random.default_rng(1).random(a.shape),
                lambda a: _torch().rand_like(a),
                "from a seeded Generator",
                False,
            ),
        ]
    ),
    # ------------------------------------------------------------ losses
    TensorOp(
        "mse_loss",
        "mse_loss(x, t)",
        r"\tfrac{1}{n} \textstyle\sum (X - T)^2",
        (rf"{d('X')} = \tfrac{{2g}}{{n}}(X - T)", rf"{d('T')} = -\tfrac{{2g}}{{n}}(X - T)"),
        mse_loss,
        lambda x, t: ((x - t) ** 2).mean(),
        lambda g, x, t: (2 * g / 12 * (x - t), -2 * g / 12 * (x - t)),
        ((3, 4), (3, 4)),
        "$n$ the number of entries; shapes that differ are refused (PyTorch only warns)",
        torch=lambda x, t: _functional().mse_loss(x, t),
    ),
    TensorOp(
        "binary_cross_entropy_with_logits",
        "binary_cross_entropy_with_logits(z, t)",
        r"\tfrac{1}{n} \textstyle\sum \big(\ln(1 + e^Z) - Z \odot T\big)",
        (rf"{d('Z')} = \tfrac{{g}}{{n}}(\sigma(Z) - T)", rf"{d('T')} = -\tfrac{{g}}{{n}} Z"),
        binary_cross_entropy_with_logits,
        lambda z, t: np.mean(np.log(1 + np.exp(z)) - z * t),
        lambda g, z, t: (g / 12 * (_sig(z) - t), -g / 12 * z),
        ((3, 4), (3, 4)),
        "targets in $[0, 1]$, drawn here as $\\sigma$ of normal numbers",
        "probability",
        torch=lambda z, t: _functional().binary_cross_entropy_with_logits(z, t),
    ),
    TensorOp(
        "nll_loss",
        "nll_loss(logp, y)",
        r"-\tfrac{1}{N} \textstyle\sum_i P_{i y_i}",
        rf"{d('P')} = -\tfrac{{g}}{{N}} \operatorname{{onehot}}(y)",
        lambda p: nll_loss(p, LABELS),
        lambda p: -np.mean([p[i, c] for i, c in enumerate(LABELS)]),
        lambda g, p: (-g / 3 * np.eye(4)[LABELS],),
        ((3, 4),),
        f"$P$ log-probabilities (of `log_softmax`), `y` = {LABELS.tolist()}",
        torch=lambda p: _functional().nll_loss(p, _torch().from_numpy(LABELS)),
    ),
]

# cross_entropy's other forms, as PyTorch takes them
TENSOR_OPS += [
    TensorOp(
        "cross_entropy",
        "cross_entropy(z, y, reduction='sum', label_smoothing=0.1)",
        r"\textstyle\sum_i \sum_c -Q_{ic} \ln S_{ic}",
        rf"{d('Z')} = g\,(S - Q)",
        lambda z: cross_entropy(z, LABELS, reduction="sum", label_smoothing=0.1),
        lambda z: -(((1 - 0.1) * np.eye(4)[LABELS] + 0.1 / 4) * np.log(softmax(z))).sum(),
        lambda g, z: (g * (softmax(z) - ((1 - 0.1) * np.eye(4)[LABELS] + 0.1 / 4)),),
        ((3, 4),),
        r"$Q = (1 - \epsilon)\operatorname{onehot}(y) + \epsilon / C$, here $\epsilon = 0.1$",
        torch=lambda z: _functional().cross_entropy(
            z, _torch().from_numpy(LABELS), reduction="sum", label_smoothing=0.1
        ),
    ),
    TensorOp(
        "cross_entropy",
        "cross_entropy(z, y, ignore_index=-100)",
        r"\tfrac{1}{|K|} \textstyle\sum_{i \in K} -\ln S_{i y_i}",
        rf"{d('Z_i')} = \tfrac{{g}}{{|K|}}(S_i - \operatorname{{onehot}}(y_i)) [i \in K]",
        lambda z: cross_entropy(z, IGNORED),
        lambda z: -np.mean([np.log(softmax(z))[i, IGNORED[i]] for i in (0, 2)]),
        lambda g, z: (
            g
            / 2
            * (softmax(z) - np.eye(4)[np.where(IGNORED < 0, 0, IGNORED)])
            * (IGNORED >= 0)[:, None],
        ),
        ((3, 4),),
        f"$K$ the rows whose label is not `ignore_index`; here `y` = {IGNORED.tolist()}",
        torch=lambda z: _functional().cross_entropy(z, _torch().from_numpy(IGNORED)),
    ),
    TensorOp(
        "cross_entropy",
        "cross_entropy(z, q)",
        r"\tfrac{1}{N} \textstyle\sum_i \sum_c -Q_{ic} \ln S_{ic}",
        (
            rf"{d('Z')} = \tfrac{{g}}{{N}}(S \odot \textstyle\sum_c Q_{{:c}} - Q)",
            rf"{d('Q')} = -\tfrac{{g}}{{N}} \ln S",
        ),
        cross_entropy,
        lambda z, q: -np.mean((q * np.log(softmax(z))).sum(axis=1)),
        lambda g, z, q: (
            g / 3 * (softmax(z) * q.sum(axis=1, keepdims=True) - q),
            -g / 3 * np.log(softmax(z)),
        ),
        ((3, 4), (3, 4)),
        "probability targets $Q$, the logits' shape",
        "probability",
        torch=lambda z, q: _functional().cross_entropy(z, q),
    ),
    TensorOp(
        "cross_entropy",
        "cross_entropy(z, y, reduction='none')",
        r"Y_{ik} = -\ln S_{i\, y_{ik}\, k}",
        rf"{d('Z_{{ick}}')} = G_{{ik}}(S_{{ick}} - [c = y_{{ik}}])",
        lambda z: cross_entropy(z, CLASSES_2D, reduction="none"),
        lambda z: np.array(
            [[-np.log(softmax(z[i, :, k]))[CLASSES_2D[i, k]] for k in range(2)] for i in range(3)]
        ),
        lambda g, z: (
            np.stack(
                [
                    np.stack(
                        [
                            g[i, k] * (softmax(z[i, :, k]) - np.eye(3)[CLASSES_2D[i, k]])
                            for k in range(2)
                        ],
                        axis=-1,
                    )
                    for i in range(3)
                ]
            ),
        ),
        ((3, 3, 2),),
        "logits $(N, C, d_1)$ with classes on axis 1, one label per position",
        torch=lambda z: _functional().cross_entropy(
            z, _torch().from_numpy(CLASSES_2D), reduction="none"
        ),
    ),
]


# ------------------------------------------------------------ convolution, normalisation,
# attention: reference formulas written as plain loops over the definitions


def _conv_ref(x: np.ndarray, w: np.ndarray, s: int, p: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, _, h, wd = xp.shape
    o, _, kh, kw = w.shape
    ho, wo = (h - kh) // s + 1, (wd - kw) // s + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, s * i : s * i + kh, s * j : s * j + kw]
            out[:, :, i, j] = np.einsum("ncuv,ocuv->no", patch, w)
    return out


def _conv_grads(g: np.ndarray, x: np.ndarray, w: np.ndarray, s: int, p: int):
    """dX and dW of the loop definition, entry by entry from the same loops."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    kh, kw = w.shape[2:]
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            patch = xp[:, :, s * i : s * i + kh, s * j : s * j + kw]
            gw += np.einsum("no,ncuv->ocuv", g[:, :, i, j], patch)
            gxp[:, :, s * i : s * i + kh, s * j : s * j + kw] += np.einsum(
                "no,ocuv->ncuv", g[:, :, i, j], w
            )
    return gxp[:, :, p : p + x.shape[2], p : p + x.shape[3]], gw


def _pool_ref(x: np.ndarray, k: int, s: int, reduce: str):
    n, c, h, wd = x.shape
    ho, wo = (h - k) // s + 1, (wd - k) // s + 1
    out, gmap = np.zeros((n, c, ho, wo)), []
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, s * i : s * i + k, s * j : s * j + k].reshape(n, c, -1)
            out[:, :, i, j] = patch.max(-1) if reduce == "max" else patch.mean(-1)
            gmap.append((i, j, patch.argmax(-1)))
    return out, gmap


def _pool_grads(g: np.ndarray, x: np.ndarray, k: int, s: int, reduce: str):
    gx = np.zeros_like(x)
    _, gmap = _pool_ref(x, k, s, reduce)
    for i, j, winner in gmap:
        if reduce == "max":
            for (a, b), w in np.ndenumerate(winner):
                gx[a, b, s * i + w // k, s * j + w % k] += g[a, b, i, j]
        else:
            gx[:, :, s * i : s * i + k, s * j : s * j + k] += g[:, :, i, j][..., None, None] / k**2
    return (gx,)


def _norm_ref(x: np.ndarray, axes: tuple[int, ...], eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + eps)


def _norm_grad(g: np.ndarray, x: np.ndarray, axes: tuple[int, ...], eps: float = 1e-5):
    """The gradient of normalising over `axes`, from the step-by-step graph: the mean's
    and the variance's paths added to the direct one."""
    m = int(np.prod([x.shape[a] for a in axes]))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    g_var = (g * (x - mu)).sum(axis=axes, keepdims=True) * -0.5 * inv**3
    g_mu = (-g * inv).sum(axis=axes, keepdims=True) + g_var * (-2 / m) * (x - mu).sum(
        axis=axes, keepdims=True
    )
    return g * inv + g_var * 2 * (x - mu) / m + g_mu / m


IMAGE_TOKENS = np.array([[1, 3, 1], [0, 2, 3]])  # embedding's indices, a repeat in row 0
CAUSAL = np.tril(np.ones((3, 3), dtype=bool))
DROP_KEEP = np.random.default_rng(7).random((3, 4)) >= 0.25  # dropout(p=0.25, seed=7)


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e30)
    return softmax(scores) @ v, softmax(scores)


def _attention_grads(g, q, k, v, mask=None):
    """The VJP of softmax(QK^T/sqrt d) V, through page 13's softmax VJP."""
    _, a = _attention(q, k, v, mask)
    gv = np.swapaxes(a, -1, -2) @ g
    ga = g @ np.swapaxes(v, -1, -2)
    gs = a * (ga - (ga * a).sum(axis=-1, keepdims=True)) / math.sqrt(q.shape[-1])
    return gs @ k, np.swapaxes(gs, -1, -2) @ q, gv


TENSOR_OPS += [
    TensorOp(
        "conv2d",
        "conv2d(x, w, b, stride=2, padding=1)",
        r"Y_{noij} = b_o + \textstyle\sum_{cuv} X^{\text{pad}}_{nc,\,si+u,\,sj+v} W_{ocuv}",
        (
            rf"{d('X')} = \text{{full convolution of }} G \text{{ with the flipped }} W",
            rf"{d('W_{ocuv}')} = \textstyle\sum_{{nij}} G_{{noij}} "
            rf"X^{{\text{{pad}}}}_{{nc,\,si+u,\,sj+v}}",
            rf"{d('b_o')} = \textstyle\sum_{{nij}} G_{{noij}}",
        ),
        lambda x, w, b: conv2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: _conv_ref(x, w, 2, 1) + b[None, :, None, None],
        lambda g, x, w, b: (*_conv_grads(g, x, w, 2, 1), g.sum(axis=(0, 2, 3))),
        ((2, 3, 5, 6), (4, 3, 3, 2), (4,)),
        "$s$ the stride, here 2, padding 1; im2col and one matrix product; "
        "images $(N, C, H, W)$, kernels $(C_\\text{out}, C_\\text{in}, k_h, k_w)$",
        torch=lambda x, w, b: _functional().conv2d(x, w, b, stride=2, padding=1),
    ),
    TensorOp(
        "max_pool2d",
        "max_pool2d(x, 2)",
        r"Y_{ncij} = \max_{u,v < 2} X_{nc,\,2i+u,\,2j+v}",
        rf"{d('X')} = G \text{{ at each window's winner, 0 elsewhere}}",
        lambda x: max_pool2d(x, 2),
        lambda x: _pool_ref(x, 2, 2, "max")[0],
        lambda g, x: _pool_grads(g, x, 2, 2, "max"),
        ((2, 3, 4, 6),),
        "stride = the kernel by default; among tied entries the first wins, as in PyTorch",
        torch=lambda x: _functional().max_pool2d(x, 2),
    ),
    TensorOp(
        "avg_pool2d",
        "avg_pool2d(x, 2, stride=1)",
        r"Y_{ncij} = \tfrac14 \textstyle\sum_{u,v < 2} X_{nc,\,i+u,\,j+v}",
        rf"{d('X')} = \tfrac14 G \text{{ spread over each window, overlaps added}}",
        lambda x: avg_pool2d(x, 2, stride=1),
        lambda x: _pool_ref(x, 2, 1, "mean")[0],
        lambda g, x: _pool_grads(g, x, 2, 1, "mean"),
        ((2, 3, 4, 5),),
        "overlapping windows here (stride 1)",
        torch=lambda x: _functional().avg_pool2d(x, 2, stride=1),
    ),
    TensorOp(
        "batch_norm",
        "batch_norm(x, None, None, training=True)",
        r"\hat X = (X - \mu_c) / \sqrt{\sigma_c^2 + \epsilon}",
        rf"{d('X')} = \tfrac{{1}}{{m \sigma}}"
        r"\big(m G - \textstyle\sum G - \hat X \sum G \hat X\big)",
        lambda x: batch_norm(x, None, None, training=True),
        lambda x: _norm_ref(x, (0, 2, 3)),
        lambda g, x: (_norm_grad(g, x, (0, 2, 3)),),
        ((4, 2, 3, 3),),
        "training mode: each channel's own mean and (biased) variance over the batch and "
        "the image, $m$ entries; checked here against the step-by-step graph's gradient",
        torch=lambda x: _functional().batch_norm(x, None, None, training=True),
    ),
    TensorOp(
        "layer_norm",
        "layer_norm(x, 4, w, b)",
        r"\hat X_i w + b, \text{ normalised over the last axis}",
        (
            rf"{d('X')} = \text{{the batch-norm formula, per row}}",
            rf"{d('w')} = \textstyle\sum_i G_i \hat X_i",
            rf"{d('b')} = \textstyle\sum_i G_i",
        ),
        lambda x, w, b: layer_norm(x, 4, w, b),
        lambda x, w, b: _norm_ref(x, (1,)) * w + b,
        lambda g, x, w, b: (_norm_grad(g * w, x, (1,)), (g * _norm_ref(x, (1,))).sum(0), g.sum(0)),
        ((3, 4), (4,), (4,)),
        "over the last axes `normalized_shape`, each example by its own statistics",
        torch=lambda x, w, b: _functional().layer_norm(x, (4,), w, b),
    ),
    TensorOp(
        "dropout",
        "dropout(x, 0.25, seed=7)",
        r"X \odot M / (1 - p)",
        rf"{d('X')} = G \odot M / (1 - p)",
        lambda x: dropout(x, 0.25, seed=7),
        lambda x: x * DROP_KEEP / 0.75,
        lambda g, x: (g * DROP_KEEP / 0.75,),
        ((3, 4),),
        "inverted dropout; $M$ the mask of kept entries from a seeded Generator; in "
        "evaluation the identity. PyTorch's mask differs, so it is compared by its rule",
        torch=lambda x: x * _torch().from_numpy(DROP_KEEP) / 0.75,
    ),
    TensorOp(
        "embedding",
        "embedding(tokens, E)",
        r"Y_{tj} = E_{x_t,\, j}",
        rf"{d('E_r')} = \textstyle\sum_{{t: x_t = r}} G_t",
        lambda e: embedding(IMAGE_TOKENS, e),
        lambda e: e[IMAGE_TOKENS],
        lambda g, e: (np.array([g[r == IMAGE_TOKENS].sum(axis=0) for r in range(5)]),),
        ((5, 3),),
        f"a scatter-add: a repeated token's rows add up; tokens {IMAGE_TOKENS.tolist()}",
        torch=lambda e: _functional().embedding(_torch().from_numpy(IMAGE_TOKENS), e),
    ),
    TensorOp(
        "scaled_dot_product_attention",
        "scaled_dot_product_attention(q, k, v, is_causal=True)",
        r"\operatorname{softmax}\big(QK^\mathsf{T}/\sqrt{d} + M\big) V",
        (
            rf"{d('Q')} = G_S K / \sqrt d",
            rf"{d('K')} = G_S^\mathsf{{T}} Q / \sqrt d",
            rf"{d('V')} = A^\mathsf{{T}} G",
        ),
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: _attention(q, k, v, CAUSAL)[0],
        lambda g, q, k, v: _attention_grads(g, q, k, v, CAUSAL),
        ((2, 3, 4), (2, 3, 4), (2, 3, 2)),
        "$A$ the attention weights, $G_S = A \\odot (G_A - \\sum G_A \\odot A)$ the softmax's "
        "VJP (page 13) of $G_A = G V^\\mathsf{T}$; the causal mask keeps each position's past",
        torch=lambda q, k, v: _functional().scaled_dot_product_attention(q, k, v, is_causal=True),
    ),
]


def tensor_inputs(op: TensorOp, rng: np.random.Generator) -> list[np.ndarray]:
    """Random inputs of the shapes `op` is checked at, kept inside its domain."""
    arrays = [rng.normal(size=shape) for shape in op.shapes]
    if op.draw == "positive":
        arrays = [np.abs(x) + 0.5 for x in arrays]
    elif op.draw == "probability":  # the last input: a target in [0, 1] (rows sum to 1)
        last = 1 / (1 + np.exp(-arrays[-1]))
        if op.name == "cross_entropy":
            last = last / last.sum(axis=1, keepdims=True)
        arrays[-1] = last
    elif op.draw == "nonzero":
        arrays[-1] = np.sign(arrays[-1]) * (np.abs(arrays[-1]) + 0.5)
    return arrays


# What is public on the engines but is not an operation that builds a node.
SCALAR_NOT_OPERATIONS = {"backward", "from_op"}
SCALAR_OPERATORS = {"__add__", "__sub__", "__neg__", "__mul__", "__truediv__", "__pow__"}
TENSOR_NOT_OPERATIONS = {
    # facts about a tensor, the backward pass and its bookkeeping, Python's own methods
    *("shape", "ndim", "size", "dtype", "is_leaf", "item", "numpy", "detach"),
    *("backward", "retain_grad", "zero_grad", "__init__", "__repr__", "__len__"),
    *("__bool__", "__hash__"),  # truth of a one-element tensor; hashing by identity
    "__pos__",  # +a is a itself: no node
    "from_op",  # the constructor for operations of your own
    # functions that compute nothing in the graph
    *("is_grad_enabled", "no_grad", "topological_order", "unbroadcast"),
}
TENSOR_SAME_NODE_AS = {  # 2 * a calls a.__rmul__(2), which builds the node of Tensor(2) * a
    "__radd__": "__add__",
    "__rsub__": "__sub__",
    "__rmul__": "__mul__",
    "__rtruediv__": "__truediv__",
    "__rpow__": "__pow__",
    "__rmatmul__": "__matmul__",
    "__abs__": "abs",  # abs(a) is a.abs()
}


def scalar_operations() -> set[str]:
    """The names of every operation `Value` has, found by looking at the class."""
    public = {
        n
        for n in vars(Value)
        if not n.startswith("_") and callable(getattr(Value, n)) and n not in SCALAR_NOT_OPERATIONS
    }
    return public | SCALAR_OPERATORS


def tensor_operations() -> set[str]:
    """The names of every operation of `Tensor` and of `backprop.tensor`'s functions."""
    import backprop.tensor as engine

    members = {
        name
        for name, member in vars(Tensor).items()
        if (callable(member) or isinstance(member, property))
        and (name.startswith("__") or not name.startswith("_"))
    }
    functions = {
        name
        for name, member in vars(engine).items()
        if inspect.isfunction(member)
        and member.__module__ == engine.__name__
        and not name.startswith("_")
    }
    if functions | {"Tensor"} != set(engine.__all__):
        raise AssertionError(f"backprop.tensor's public functions and __all__ differ: {functions}")
    return {TENSOR_SAME_NODE_AS.get(n, n) for n in members | functions} - TENSOR_NOT_OPERATIONS


def missing_operations() -> dict[str, set[str]]:
    """What the engines and the catalogue disagree on; every set is empty when all is well."""
    scalar, tensor = {op.name for op in SCALAR_OPS}, {op.name for op in TENSOR_OPS}
    return {
        "scalar engine only": scalar_operations() - scalar,
        "scalar catalogue only": scalar - scalar_operations(),
        "tensor engine only": tensor_operations() - tensor,
        "tensor catalogue only": tensor - tensor_operations(),
    }
