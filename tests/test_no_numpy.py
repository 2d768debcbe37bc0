"""The scalar package works where numpy is absent (Python in the browser, say).

A child interpreter blocks numpy before importing backprop (a finder put first on
`sys.meta_path` makes every `import numpy` raise ModuleNotFoundError), then trains a tiny
MLP with SGD and uses the losses, gradcheck, draw and the stepper; the tensor engine must
then fail with an ImportError that names numpy. The pure-Python random generator behind
the scalar modules must give the numbers numpy gives, so that a seeded network is the
same with numpy and without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from backprop import _random
from backprop.nn import MLP

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import json, sys

    class NoNumpy:  # a finder consulted first that finds no numpy, as if not installed
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "numpy":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoNumpy())
    try:
        import numpy
    except ImportError:
        pass
    else:
        raise SystemExit("numpy was not blocked")

    import backprop
    from backprop import Value, draw, gradcheck, losses, numerical_derivative
    from backprop.nn import MLP, Layer, Neuron, Sequential
    from backprop.optim import SGD, Adam

    report = {}
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    report["initial"] = [p.data for p in model.parameters()]
    X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    y = [1.0, 1.0, -1.0, -1.0]
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = []
    for _ in range(40):
        opt.zero_grad()
        loss = losses.mse([model(x) for x in X], y)
        loss.backward()
        opt.step()
        history.append(loss.data)
    report["history"] = history
    report["hinge"] = losses.hinge([model(x) for x in X], y).data
    report["bce"] = losses.binary_cross_entropy_with_logits([model(X[0])], [1]).data

    w = Value(0.5, "w")
    adam = Adam([w], lr=0.1)
    for _ in range(5):
        adam.zero_grad()
        (w * w).backward()
        adam.step()
    report["adam"] = w.data

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    report["gradcheck"] = gradcheck(lambda a, b: (a * b + a.exp()).tanh(), [a, b])
    report["numerical"] = numerical_derivative(lambda x: x**3, 2.0)
    svg = draw(a * b + a)
    report["svg"] = svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    from backprop.stepper import backward_steps, stepper_html  # what the playground runs

    report["steps"] = [step.node for step in backward_steps(a * b + a)]
    report["stepper"] = stepper_html(a * b, title="t").count('class="bp-stepper-frame"')
    report["layer"] = len(Layer(3, 2, seed=1)([1.0, 2.0, 3.0]))
    report["neuron"] = Neuron(2, seed=2)([1.0, -1.0]).data
    report["sequential"] = len(Sequential(Layer(2, 2, seed=0)).parameters())

    errors = {}
    for name in ["Tensor", "no_grad", "tensor", "datasets"]:
        try:
            getattr(backprop, name)
        except ImportError as error:
            errors[name] = [str(error), error.name]
    try:
        backprop.Tensor([1.0])
    except ImportError as error:
        errors["call"] = [str(error), error.name]
    try:
        from backprop import Tensor
    except ImportError as error:
        errors["from"] = [str(error), error.name]
    try:
        backprop.nn.Linear(2, 3)
    except ImportError as error:
        errors["Linear"] = [str(error), error.name]
    report["errors"] = errors
    report["modules"] = sorted(m for m in sys.modules if m.split(".")[0] == "numpy")
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def child() -> dict:
    """What the child interpreter without numpy reports."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_scalar_package_trains_a_network_without_numpy(child: dict) -> None:
    history = child["history"]
    assert len(history) == 40 and history[-1] < history[0] / 2
    assert child["gradcheck"] is True
    assert abs(child["numerical"] - 12.0) < 1e-6
    assert child["svg"] is True
    assert child["steps"][0] == "" and child["steps"][-2:] == ["b", "a"]
    assert child["stepper"] == 4
    assert child["layer"] == 2 and child["sequential"] == 6
    assert 0.0 < child["adam"] < 0.5
    assert child["modules"] == []  # nothing of numpy got imported


def test_without_numpy_the_numbers_are_those_with_numpy(child: dict) -> None:
    """The same seeded network and the same training run, bit for bit."""
    from backprop import losses
    from backprop.nn import Neuron
    from backprop.optim import SGD

    model = MLP(2, [4, 1], activation="tanh", seed=0)
    assert [p.data for p in model.parameters()] == child["initial"]
    X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    y = [1.0, 1.0, -1.0, -1.0]
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = []
    for _ in range(40):
        opt.zero_grad()
        loss = losses.mse([model(x) for x in X], y)
        loss.backward()
        opt.step()
        history.append(loss.data)
    assert history == child["history"]
    assert losses.hinge([model(x) for x in X], y).data == child["hinge"]
    assert Neuron(2, seed=2)([1.0, -1.0]).data == child["neuron"]


@pytest.mark.parametrize("name", ["Tensor", "no_grad", "tensor", "datasets", "call", "from"])
def test_the_tensor_engine_says_it_needs_numpy(child: dict, name: str) -> None:
    message, missing = child["errors"][name]
    assert missing == "numpy"
    assert "needs numpy, which is not installed" in message
    assert "pip install numpy" in message


def test_a_tensor_module_says_it_needs_numpy(child: dict) -> None:
    message, missing = child["errors"]["Linear"]
    assert missing == "numpy" and message.startswith("nn.Linear needs numpy")


@pytest.mark.parametrize("seed", [0, 1, 7, 2718, 2**32 + 5, 2**64 + 3, 2**130 + 11])
def test_the_pure_python_generator_is_numpys_default_rng(seed: int) -> None:
    ours = _random.Generator(seed)
    theirs = np.random.default_rng(seed)
    for low, high, n in [(-1, 1, 5), (-1, 1, 300), (0.0, 3.0, 7)]:
        assert ours.uniform(low, high, n) == theirs.uniform(low, high, n).tolist()


def test_the_scalar_modules_draw_the_weights_numpy_draws() -> None:
    model = MLP(3, [4, 2], seed=5)
    weights = [p.data for p in model.parameters() if not p.label.endswith("b")]
    assert weights == np.random.default_rng(5).uniform(-1, 1, len(weights)).tolist()
    rng = np.random.default_rng(5)  # a numpy Generator is still accepted, and used
    assert [p.data for p in MLP(3, [4, 2], seed=rng).parameters()] == [
        p.data for p in model.parameters()
    ]


def test_unseeded_generators_differ_and_bad_seeds_are_named() -> None:
    assert _random.Generator().uniform(0, 1, 4) != _random.Generator().uniform(0, 1, 4)
    with pytest.raises(TypeError, match="seed must be an int or None, got str"):
        MLP(2, [1], seed="0")
    with pytest.raises(TypeError, match="seed must be an int or None, got float"):
        MLP(2, [1], seed=1.5)
    with pytest.raises(ValueError, match="seed must be non-negative, got -1"):
        MLP(2, [1], seed=-1)
