"""Random computation graphs, both engines, against PyTorch float64 and finite differences.

Hypothesis builds a graph one operation at a time. Each step picks an operation and
operands among the nodes built so far (so values are shared, reused many times, and
form diamonds), choosing only operations that are defined and smooth at the current
values: a log only of a value above 0.1, a ReLU only away from its kink, and so on.
The loss is a weighted sum of several nodes with random weights, so every node gets a
non-uniform upstream gradient. The same program is replayed in PyTorch (float64); the
gradients must agree to 1e-9 relative, and the directional derivative along a random
direction must agree with a central difference.

At least 1,000 examples per engine run in `make test`; set
`BACKPROP_GRAPH_EXAMPLES=20000` for a larger run (`make test-graphs`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop.tensor as bt
from backprop import Tensor, Value

torch = pytest.importorskip("torch")

EXAMPLES = int(os.environ.get("BACKPROP_GRAPH_EXAMPLES", "1000"))
MAX_OPS = 20
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same graphs every run: a failure reproduces
)


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


# ---------------------------------------------------------------------- scalar engine

# Each op: (name, arity, is it allowed at these operand values?, our version, torch's).
ScalarOp = tuple[str, int, Callable[..., bool], Callable[..., Any], Callable[..., Any]]
SCALAR_OPS: list[ScalarOp] = [
    ("+", 2, lambda a, b: True, lambda a, b: a + b, lambda a, b: a + b),
    ("-", 2, lambda a, b: True, lambda a, b: a - b, lambda a, b: a - b),
    ("*", 2, lambda a, b: True, lambda a, b: a * b, lambda a, b: a * b),
    ("/", 2, lambda a, b: abs(b) > 0.2, lambda a, b: a / b, lambda a, b: a / b),
    ("a**b", 2, lambda a, b: 0.2 < a < 5 and abs(b) < 3, lambda a, b: a**b, lambda a, b: a**b),
    ("a**3", 1, lambda a: True, lambda a: a**3, lambda a: a**3),
    ("a**-1.5", 1, lambda a: a > 0.2, lambda a: a**-1.5, lambda a: a**-1.5),
    ("2**a", 1, lambda a: abs(a) < 5, lambda a: 2.0**a, lambda a: 2.0**a),
    ("3-a", 1, lambda a: True, lambda a: 3.0 - a, lambda a: 3.0 - a),
    ("2/a", 1, lambda a: abs(a) > 0.2, lambda a: 2.0 / a, lambda a: 2.0 / a),
    ("neg", 1, lambda a: True, lambda a: -a, lambda a: -a),
    ("exp", 1, lambda a: a < 5, lambda a: a.exp(), lambda a: a.exp()),
    ("log", 1, lambda a: a > 0.1, lambda a: a.log(), lambda a: a.log()),
    ("tanh", 1, lambda a: True, lambda a: a.tanh(), lambda a: a.tanh()),
    ("sigmoid", 1, lambda a: True, lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    ("softplus", 1, lambda a: True, lambda a: a.softplus(), torch.nn.functional.softplus),
    ("relu", 1, lambda a: abs(a) > 1e-3, lambda a: a.relu(), lambda a: a.relu()),
    ("sum", 3, lambda *a: True, lambda *a: Value.sum(a), lambda *a: sum(a[1:], a[0])),
    (
        "dot",
        4,
        lambda *a: True,
        lambda a, b, c, d: Value.dot([a, b], [c, d]),
        lambda a, b, c, d: a * c + b * d,
    ),
    (
        "logsumexp",
        3,
        lambda *a: max(a) < 50,
        lambda *a: Value.logsumexp(a),
        lambda *a: torch.logsumexp(torch.stack(a), 0),
    ),
]


@st.composite
def scalar_programs(draw: st.DrawFn) -> tuple[list[float], list[tuple[int, list[int]]], list]:
    """Leaf values, then steps (op index, operand node indices), then loss weights."""
    n_leaves = draw(st.integers(1, 4))
    leaves = draw(st.lists(st.floats(-2, 2).filter(lambda x: abs(x) > 0.05), min_size=n_leaves,
                           max_size=n_leaves))  # fmt: skip
    values = list(leaves)
    steps: list[tuple[int, list[int]]] = []
    for _ in range(draw(st.integers(1, MAX_OPS))):
        index = draw(st.integers(0, len(SCALAR_OPS) - 1))
        _, arity, ok, _, _ = SCALAR_OPS[index]
        # Prefer recent nodes (deep graphs) but reach back too (sharing, diamonds).
        args = [draw(st.integers(0, len(values) - 1)) for _ in range(arity)]
        operands = [values[i] for i in args]
        if not ok(*operands):
            continue
        result = _float_op(index, operands)
        if result is None or not abs(result) < 1e4:
            continue
        steps.append((index, args))
        values.append(result)
    weights = draw(st.lists(st.floats(-2, 2), min_size=len(values), max_size=len(values)))
    return leaves, steps, weights


def _float_op(index: int, operands: list[float]) -> float | None:
    try:
        return SCALAR_OPS[index][3](*(Value(x) for x in operands)).data
    except (ValueError, OverflowError, ZeroDivisionError):
        return None


def run_scalar(leaves: list[float], steps: list, weights: list[float]) -> tuple[float, list[float]]:
    xs = [Value(x) for x in leaves]
    nodes: list[Value] = list(xs)
    for index, args in steps:
        nodes.append(SCALAR_OPS[index][3](*(nodes[i] for i in args)))
    loss = Value.sum(w * n for w, n in zip(weights, nodes, strict=True))
    loss.backward()
    return loss.data, [x.grad for x in xs]


def run_scalar_torch(leaves: list[float], steps: list, weights: list[float]):
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    nodes = list(xs)
    for index, args in steps:
        nodes.append(SCALAR_OPS[index][4](*(nodes[i] for i in args)))
    loss = sum(w * n for w, n in zip(weights, nodes, strict=True))
    grads = torch.autograd.grad(loss, xs, allow_unused=True)
    return float(loss.detach()), [0.0 if g is None else float(g) for g in grads]


@SETTINGS
@given(scalar_programs(), st.integers(0, 2**32 - 1))
def test_random_scalar_graphs_match_pytorch_and_finite_differences(program, seed) -> None:
    leaves, steps, weights = program
    loss, grads = run_scalar(leaves, steps, weights)
    torch_loss, torch_grads = run_scalar_torch(leaves, steps, weights)
    assert close(loss, torch_loss, 1e-9, 1e-9)
    for ours, theirs in zip(grads, torch_grads, strict=True):
        assert close(ours, theirs, 1e-9, 1e-9), (ours, theirs)
    # Directional derivative along a random direction u: grad . u against a difference.
    u = np.random.default_rng(seed).standard_normal(len(leaves))
    h = 1e-6

    def at(t: float) -> float | None:
        try:
            return run_scalar([x + t * d for x, d in zip(leaves, u, strict=True)], steps, weights)[
                0
            ]
        except (ValueError, OverflowError, ZeroDivisionError):
            return None

    hi, lo = at(h), at(-h)
    if hi is None or lo is None:
        return  # the nudge crossed a domain edge: the other checks stand
    numeric = (hi - lo) / (2 * h)
    analytic = float(np.dot(grads, u))
    scale = 1.0 + max(abs(loss), abs(analytic))
    assert close(analytic, numeric, 1e-5, 1e-6 * scale), (analytic, numeric)


# ---------------------------------------------------------------------- tensor engine

SHAPES = [(3,), (2, 3), (4, 1), (1, 3), (2, 1, 3), (3, 3)]


@st.composite
def tensor_programs(draw: st.DrawFn):
    """Events in creation order: ("leaf", array) or ("op", instruction); an instruction
    refers to earlier values by their position in that order."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    events: list[tuple[str, Any]] = []
    values: list[np.ndarray] = []

    def leaf(x: np.ndarray) -> int:
        events.append(("leaf", x))
        values.append(x)
        return len(values) - 1

    for _ in range(draw(st.integers(1, 3))):
        low = draw(st.sampled_from([-2.0, 0.2]))  # some leaves positive, for log and sqrt
        leaf(rng.uniform(low, 2, SHAPES[draw(st.integers(0, len(SHAPES) - 1))]))
    for _ in range(draw(st.integers(1, 12))):
        i = draw(st.integers(0, len(values) - 1))
        a = values[i]
        kind = draw(st.sampled_from(KINDS))
        step: tuple | None = None
        if kind == "unary":
            name = draw(st.sampled_from(UNARY))
            far = np.abs(a).min() > 1e-3  # away from the kinks of relu, abs, leaky_relu, elu
            ok = {"exp": a.max() < 5, "log": a.min() > 0.1, "sqrt": a.min() > 0.1,
                  "rsqrt": a.min() > 0.1, "relu": far, "abs": far, "leaky_relu": far,
                  "elu": far}.get(name, True)  # fmt: skip
            step = ("unary", name, i) if ok else None
        elif kind == "binary":
            name = draw(st.sampled_from(["+", "-", "*", "/", "maximum", "minimum", "where"]))
            j = draw(st.integers(0, len(values) - 1))
            b = values[j]
            try:
                np.broadcast_shapes(a.shape, b.shape)
                fits = True
            except ValueError:
                fits = False
            if (
                fits
                and not (name == "/" and np.abs(b).min() < 0.2)
                and not (name in ("maximum", "minimum") and np.abs(np.subtract(a, b)).min() < 1e-3)
                and not (name == "where" and np.abs(a).min() < 1e-3)  # where(a > 0, a, b)
            ):
                step = ("binary", name, i, j)
        elif kind == "reduce" and a.ndim:
            name = draw(st.sampled_from(["sum", "mean", "max", "amin", "logsumexp", "var"]))
            axis = draw(st.integers(-a.ndim, a.ndim - 1))
            keep = draw(st.booleans())
            ordered = np.sort(a, axis=axis)
            gaps = np.diff(ordered, axis=axis)
            top = a.shape[axis] < 2 or np.take(gaps, -1, axis=axis).min() > 1e-3
            bottom = a.shape[axis] < 2 or np.take(gaps, 0, axis=axis).min() > 1e-3
            ok = {"max": top, "amin": bottom, "var": a.shape[axis] >= 2}.get(name, True)
            step = ("reduce", name, i, axis, keep) if ok else None
        elif kind == "shape" and a.ndim:
            which = draw(st.sampled_from(["transpose", "reshape", "flip", "unsqueeze"]))
            step = (which, i, (-1,)) if which == "reshape" else (which, i)
        elif kind == "index" and a.ndim and a.shape[0] > 1:
            picks = rng.integers(0, a.shape[0], size=draw(st.integers(1, 4)))  # repeats allowed
            step = ("index", i, picks) if draw(st.booleans()) else ("slice", i)
        elif kind == "matmul" and a.ndim:
            w = leaf(rng.uniform(-1, 1, (a.shape[-1], draw(st.integers(1, 3)))))
            step = ("matmul", i, w)
        elif kind == "softmax" and a.ndim:
            step = ("softmax", draw(st.sampled_from(["softmax", "log_softmax"])), i)
        elif kind == "join" and a.ndim:
            other = leaf(rng.uniform(-2, 2, a.shape))
            step = ("join", draw(st.sampled_from(["concatenate", "stack"])), i, other)
        if step is None:
            continue
        result = np.asarray(_apply("np", step, values), dtype=float)
        if result.size == 0 or not np.all(np.abs(result) < 1e4):
            continue
        events.append(("op", step))
        values.append(result)
    weights = [rng.standard_normal(v.shape) for v in values]
    return events, weights, int(rng.integers(0, 2**32))


KINDS = ["unary", "binary", "reduce", "shape", "index", "matmul", "softmax", "join"]
UNARY = ["tanh", "sigmoid", "exp", "log", "sqrt", "relu", "abs", "neg", "sin", "cos", "square",
         "rsqrt", "softplus", "silu", "gelu", "elu", "leaky_relu"]  # fmt: skip


def _np_sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


NP_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _np_sigmoid,
    "relu": lambda v: np.maximum(v, 0),
    "rsqrt": lambda v: 1 / np.sqrt(v),
    "softplus": lambda v: np.log1p(np.exp(v)),
    "silu": lambda v: v * _np_sigmoid(v),
    "gelu": lambda v: v * 0.5 * (1 + np.vectorize(math.erf)(v / math.sqrt(2))),
    "elu": lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))),
    "leaky_relu": lambda v: np.where(v > 0, v, 0.01 * v),
}
TORCH_UNARY = {"softplus", "silu", "gelu", "elu", "leaky_relu"}  # in torch.nn.functional


def _apply(lib: str, step: tuple, nodes: list) -> Any:
    """One instruction, in numpy (`np`), our engine (`bp`) or PyTorch (`torch`)."""
    kind = step[0]
    if kind == "unary":
        x = nodes[step[2]]
        name = step[1]
        if name == "neg":
            return -x
        if lib == "np":
            return (NP_UNARY[name] if name in NP_UNARY else getattr(np, name))(x)
        if lib == "torch" and name in TORCH_UNARY:
            return getattr(torch.nn.functional, name)(x)
        return getattr(x, name)()
    if kind == "binary":
        x, y = nodes[step[2]], nodes[step[3]]
        name = step[1]
        if name == "maximum":
            return {"np": np.maximum, "bp": bt.maximum, "torch": torch.maximum}[lib](x, y)
        if name == "minimum":
            return {"np": np.minimum, "bp": bt.minimum, "torch": torch.minimum}[lib](x, y)
        if name == "where":
            return {"np": np.where, "bp": bt.where, "torch": torch.where}[lib](x > 0, x, y)
        if name == "+":
            return x + y
        if name == "-":
            return x - y
        return x * y if name == "*" else x / y
    if kind == "reduce":
        _, name, i, axis, keep = step
        x = nodes[i]
        if lib == "np":
            if name == "logsumexp":
                m = x.max(axis=axis, keepdims=True)
                out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
                return out if keep else np.squeeze(out, axis=axis)
            f = {"max": np.amax, "amin": np.amin, "var": lambda v, **k: np.var(v, ddof=1, **k)}
            return f.get(name, getattr(np, name))(x, axis=axis, keepdims=keep)
        if lib == "torch":
            torch_name = {"max": "amax"}.get(name, name)
            return getattr(x, torch_name)(dim=axis, keepdim=keep)
        return getattr(x, name)(axis=axis, keepdims=keep)
    if kind == "transpose":
        x = nodes[step[1]]
        return x.T if lib != "torch" else x.permute(*reversed(range(x.ndim)))
    if kind == "reshape":
        return nodes[step[1]].reshape(step[2])
    if kind == "flip":
        x = nodes[step[1]]
        return np.flip(x, 0) if lib == "np" else x.flip(0) if lib == "bp" else x.flip((0,))
    if kind == "unsqueeze":
        x = nodes[step[1]]
        return np.expand_dims(x, 0) if lib == "np" else x.unsqueeze(0)
    if kind == "index":
        picks = step[2] if lib != "torch" else torch.as_tensor(step[2])
        return nodes[step[1]][picks]
    if kind == "slice":
        return nodes[step[1]][1:]
    if kind == "matmul":
        return nodes[step[1]] @ nodes[step[2]]
    if kind == "softmax":
        x = nodes[step[2]]
        if lib == "np":
            e = np.exp(x - x.max(-1, keepdims=True))
            s = e / e.sum(-1, keepdims=True)
            return s if step[1] == "softmax" else np.log(s)
        return getattr(x, step[1])(-1) if lib == "torch" else getattr(x, step[1])(axis=-1)
    if kind == "join":
        parts = [nodes[step[2]], nodes[step[3]]]
        if lib == "torch":
            return (torch.cat if step[1] == "concatenate" else torch.stack)(parts, 0)
        return {"np": getattr(np, step[1]), "bp": getattr(bt, step[1])}[lib](parts, 0)
    raise ValueError(kind)


def run(lib: str, events: list, weights: list, nudge: list | None = None):
    """Replay the program in `bp` or `torch`; the loss and the leaves' gradients.

    `nudge`, one array per leaf, is added to the leaves first (for finite differences)."""
    leaves = [x for kind, x in events if kind == "leaf"]
    if nudge is not None:
        leaves = [x + d for x, d in zip(leaves, nudge, strict=True)]
    if lib == "bp":
        xs = [Tensor(x, requires_grad=True) for x in leaves]
    else:
        xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    nodes: list = []
    k = 0
    for kind, item in events:
        if kind == "leaf":
            nodes.append(xs[k])
            k += 1
        else:
            nodes.append(_apply(lib, item, nodes))
    total = None
    for node, w in zip(nodes, weights, strict=True):
        term = (node * (w if lib == "bp" else torch.tensor(w))).sum()
        total = term if total is None else total + term
    if lib == "bp":
        total.backward()
        grads = [np.zeros_like(x.data) if x.grad is None else x.grad for x in xs]
        return float(total.data), grads
    found = torch.autograd.grad(total, xs, allow_unused=True)
    grads = [
        np.zeros(tuple(x.shape)) if g is None else g.numpy() for g, x in zip(found, xs, strict=True)
    ]
    return float(total.detach()), grads


@SETTINGS
@given(tensor_programs())
def test_random_tensor_graphs_match_pytorch_and_finite_differences(program) -> None:
    events, weights, seed = program
    loss, grads = run("bp", events, weights)
    torch_loss, torch_grads = run("torch", events, weights)
    assert close(loss, torch_loss, 1e-9, 1e-9)
    for ours, theirs in zip(grads, torch_grads, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    rng = np.random.default_rng(seed)
    h = 1e-6
    u = [rng.standard_normal(g.shape) for g in grads]
    hi = run("bp", events, weights, [h * d for d in u])[0]
    lo = run("bp", events, weights, [-h * d for d in u])[0]
    numeric = (hi - lo) / (2 * h)
    analytic = sum(float((g * d).sum()) for g, d in zip(grads, u, strict=True))
    assert close(analytic, numeric, 1e-5, 1e-6 * (1.0 + abs(loss) + abs(analytic)))


def test_the_generators_reach_every_operation() -> None:
    """The programs the two tests above draw use every scalar op and tensor instruction."""
    ops: set[str] = set()
    kinds: set[str] = set()
    few = settings(max_examples=1500, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))  # fmt: skip

    @few
    @given(scalar_programs())
    def scalar(program) -> None:
        ops.update(SCALAR_OPS[i][0] for i, _ in program[1])

    @few
    @given(tensor_programs())
    def tensor(program) -> None:
        for kind, step in program[0]:
            if kind == "op":
                named = ("unary", "binary", "softmax", "join", "reduce")
                kinds.add(step[1] if step[0] in named else step[0])

    scalar()
    tensor()
    assert {op[0] for op in SCALAR_OPS} <= ops
    expected = {*UNARY, "+", "-", "*", "/", "maximum", "minimum", "where", "sum", "mean",
                "max", "amin", "logsumexp", "var", "transpose", "reshape", "flip", "unsqueeze",
                "index", "slice", "matmul", "softmax", "log_softmax", "concatenate",
                "stack"}  # fmt: skip
    assert expected <= kinds, expected - kinds
