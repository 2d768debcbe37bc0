"""Every operation of both engines is verified three ways, from one catalogue.

`backprop.catalogue` lists every operation once. For each entry these tests check, always
with a random, non-uniform upstream gradient:

1. the gradient against central differences (`gradcheck`: every input, the whole Jacobian
   for tensors);
2. the value and the gradient against the formulas the reference table prints;
3. the value and the gradient against PyTorch in float64.

And they check that the catalogue lists exactly the engines' operations, and that the
reference page prints its tables from the catalogue, so no operation can exist without all
of the above and a row in the table of local derivatives.
"""

from __future__ import annotations

import math
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from backprop import Tensor, Value, gradcheck
from backprop.catalogue import (
    SCALAR_OPS,
    TENSOR_OPS,
    ScalarOp,
    missing_operations,
    tensor_inputs,
)

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-9  # float64 against float64: only rounding may differ

scalar_cases = [
    pytest.param(op, point, id=f"{op.id}-{i}")
    for op in SCALAR_OPS
    for i, point in enumerate(op.points)
]
tensor_cases = [pytest.param(op, id=op.id) for op in TENSOR_OPS]


def test_the_catalogue_lists_every_operation_of_both_engines() -> None:
    assert missing_operations() == {
        "scalar engine only": set(),
        "scalar catalogue only": set(),
        "tensor engine only": set(),
        "tensor catalogue only": set(),
    }


def test_the_reference_tables_are_printed_from_the_catalogue() -> None:
    page = (ROOT / "docs/reference/ops.md").read_text()
    assert "from backprop.catalogue import SCALAR_OPS" in page
    assert "from backprop.catalogue import TENSOR_OPS" in page
    assert page.count("for op in SCALAR_OPS:") == 1 and page.count("for op in TENSOR_OPS:") == 1
    # No second, hand-written list of operations on the page.
    assert not re.search(r"^\s*(Scalar|Tensor)?Op\(", page, flags=re.MULTILINE)


def test_every_entry_has_an_id_of_its_own() -> None:
    for ops in (SCALAR_OPS, TENSOR_OPS):
        assert len({op.id for op in ops}) == len(ops)


def test_every_entry_has_formulas_for_the_table() -> None:
    for op in [*SCALAR_OPS, *TENSOR_OPS]:
        formulas = op.local if isinstance(op, ScalarOp) else op.vjp
        formulas = (formulas,) if isinstance(formulas, str) else formulas
        assert op.code and op.forward and all(formulas), op.name


# ----------------------------------------------------------------------------- scalar


def _upstream(point: tuple[float, ...]) -> float:
    """A fixed upstream gradient that is not 1 and differs from point to point."""
    return -1.7 + 0.3 * len(point) + 0.1 * sum(point)


@pytest.mark.parametrize(("op", "point"), scalar_cases)
def test_scalar_op_against_its_formulas_and_finite_differences(op, point) -> None:
    c = _upstream(point)
    inputs = [Value(x) for x in point]
    y = op.make(*inputs)
    (y * c).backward()  # the upstream gradient reaching y is c
    assert math.isclose(y.data, op.value(*point), rel_tol=1e-12)
    for v, want in zip(inputs, op.partials(*point), strict=True):
        assert math.isclose(v.grad, c * want, rel_tol=1e-12, abs_tol=1e-15), op.code
    assert gradcheck(lambda *v: op.make(*v) * c, list(point)), op.code


@pytest.mark.parametrize(("op", "point"), scalar_cases)
def test_scalar_op_against_pytorch(op, point) -> None:
    torch = pytest.importorskip("torch")
    c = _upstream(point)
    inputs = [Value(x) for x in point]
    y = op.make(*inputs)
    (y * c).backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    ty = op.torch(*ts)
    ty.backward(torch.tensor(c, dtype=torch.float64))
    assert math.isclose(y.data, ty.item(), rel_tol=RTOL), op.code
    for v, t in zip(inputs, ts, strict=True):
        assert math.isclose(v.grad, t.grad.item(), rel_tol=RTOL, abs_tol=1e-15), op.code


# ----------------------------------------------------------------------------- tensor


def _inputs_and_upstream(op) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(zlib.crc32((op.name + op.code).encode()))
    arrays = tensor_inputs(op, rng)
    shape = np.shape(op.value(*arrays))
    return arrays, rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("op", tensor_cases)
def test_tensor_op_against_its_formulas_and_finite_differences(op) -> None:
    arrays, G = _inputs_and_upstream(op)
    inputs = [Tensor(x, requires_grad=True) for x in arrays]
    y = op.make(*inputs)
    if not op.differentiable:  # a comparison, an index or a new tensor: value, no graph
        want = np.asarray(op.value(*arrays))
        assert y.dtype == want.dtype and np.array_equal(y.data, want), op.code
        assert not y.requires_grad and y.is_leaf, op.code
        return
    assert np.allclose(y.data, op.value(*arrays), rtol=1e-12, atol=1e-15), op.code
    y.backward(G)
    for x, want in zip(inputs, op.grads(G, *arrays), strict=True):
        assert x.grad.shape == x.shape, op.code
        assert np.allclose(x.grad, want, rtol=1e-12, atol=1e-14), op.code
    if not op.finite_differences:  # a cast to float32: below central differences' resolution
        return
    # The whole Jacobian, entry by entry, and the fast mode's random projections.
    assert gradcheck(op.make, [Tensor(x, requires_grad=True) for x in arrays]), op.code
    assert gradcheck(op.make, [Tensor(x, requires_grad=True) for x in arrays], fast=True)


@pytest.mark.parametrize("op", tensor_cases)
def test_tensor_op_against_pytorch(op) -> None:
    torch = pytest.importorskip("torch")
    arrays, G = _inputs_and_upstream(op)
    inputs = [Tensor(x, requires_grad=True) for x in arrays]
    y = op.make(*inputs)
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in arrays]
    ty = op.torch(*ts)
    if not op.differentiable:  # the same values and dtype, and no gradient in either
        assert not ty.requires_grad and not y.requires_grad, op.code
        assert str(ty.dtype).removeprefix("torch.") == str(y.dtype), op.code
        assert tuple(ty.shape) == y.shape, op.code
        if op.torch_values:  # random tensors: other generators, other numbers
            np.testing.assert_array_equal(y.data, ty.numpy(), err_msg=op.code)
        return
    y.backward(G)
    ty.backward(torch.from_numpy(np.asarray(G, dtype=np.float64)).to(ty.dtype))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=RTOL, atol=1e-14)
    for x, t in zip(inputs, ts, strict=True):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=RTOL, atol=1e-14, err_msg=op.code)
