"""Tests of backprop.nn: sizes, seeds, initial weights, forward, and that an MLP learns."""

from __future__ import annotations

import numpy as np
import pytest

from backprop import Value
from backprop.datasets import make_moons
from backprop.losses import binary_cross_entropy_with_logits, hinge
from backprop.nn import MLP, Layer, Module, Neuron
from backprop.optim import SGD, Adam


def datas(module: Module) -> list[float]:
    return [p.data for p in module.parameters()]


@pytest.mark.parametrize(
    ("nin", "nouts", "count"),
    [(2, [16, 16, 1], 3 * 16 + 17 * 16 + 17), (3, [4, 4, 1], 41), (1, [1], 2), (5, [3, 2], 26)],
)
def test_mlp_parameter_count(nin, nouts, count):
    assert len(MLP(nin, nouts, seed=0).parameters()) == count


def test_neuron_and_layer_parameter_counts_and_order():
    n = Neuron(3, seed=0)
    assert len(n.parameters()) == 4
    assert n.parameters()[-1] is n.b and n.parameters()[:3] == n.w
    layer = Layer(3, 5, seed=0)
    assert len(layer.parameters()) == 20
    assert layer.parameters()[:4] == layer.neurons[0].parameters()


def test_initialisation_like_micrograd():
    model = MLP(2, [16, 16, 1], seed=0)
    for layer in model.layers:
        for n in layer.neurons:
            assert n.b.data == 0.0
            assert all(-1.0 <= w.data <= 1.0 for w in n.w)


def test_same_seed_same_network_different_seed_different_network():
    assert datas(MLP(2, [16, 16, 1], seed=0)) == datas(MLP(2, [16, 16, 1], seed=0))
    assert datas(MLP(2, [16, 16, 1], seed=0)) != datas(MLP(2, [16, 16, 1], seed=1))
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    assert datas(Layer(3, 4, seed=rng1)) == datas(Layer(3, 4, seed=rng2))
    # Neurons of a layer draw from the generator in turn: they differ from each other.
    layer = Layer(3, 2, seed=0)
    assert datas(layer.neurons[0]) != datas(layer.neurons[1])


def test_parameters_are_labelled():
    model = MLP(2, [3, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert labels[:3] == ["l0.n0.w0", "l0.n0.w1", "l0.n0.b"]
    assert labels[-1] == "l1.n0.b"
    assert len(set(labels)) == len(labels)


def test_set_parameters():
    model = MLP(2, [3, 1], seed=0)
    values = [0.01 * i for i in range(len(model.parameters()))]
    model.set_parameters(values)
    assert datas(model) == values
    with pytest.raises(ValueError, match="expected 13"):
        model.set_parameters([1.0])
    with pytest.raises(TypeError):
        model.set_parameters(["x"] * 13)
    assert datas(model) == values  # unchanged after a failed call


def test_neuron_forward_is_activation_of_dot():
    n = Neuron(2, activation="tanh", seed=0)
    n.set_parameters([0.5, -0.25, 0.1])
    out = n([2.0, 4.0])
    assert out.data == pytest.approx(np.tanh(0.1 + 0.5 * 2.0 - 0.25 * 4.0))
    for act, f in [
        ("relu", lambda z: max(z, 0.0)),
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("linear", lambda z: z),
        (None, lambda z: z),
    ]:
        n = Neuron(2, activation=act, seed=0)
        n.set_parameters([0.5, -0.75, 0.1])
        assert n([2.0, 4.0]).data == pytest.approx(f(0.1 + 1.0 - 3.0))


def test_mlp_matches_a_numpy_forward_pass():
    model = MLP(3, [4, 5, 2], activation="tanh", seed=3)
    x = [0.3, -1.2, 0.8]
    h = np.array(x)
    for i, layer in enumerate(model.layers):
        W = np.array([[w.data for w in n.w] for n in layer.neurons])
        b = np.array([n.b.data for n in layer.neurons])
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = np.tanh(h)
    out = model(x)
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_allclose([o.data for o in out], h, rtol=1e-13)


def test_output_shapes():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    assert len(MLP(2, [3, 2], seed=0)([1.0, 2.0])) == 2
    assert len(Layer(2, 1, seed=0)([1.0, 2.0])) == 1  # a Layer always returns a list
    assert isinstance(Neuron(2, seed=0)([Value(1.0), 2.0]), Value)


def test_last_layer_linear_by_default_and_output_activation():
    model = MLP(2, [3, 1], seed=0)
    assert [n.activation for n in model.layers[0].neurons] == ["relu"] * 3
    assert model.layers[-1].neurons[0].activation == "linear"
    model = MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=0)
    assert model.layers[0].neurons[0].activation == "tanh"
    assert 0.0 < model([1.0, 2.0]).data < 1.0


def test_gradients_reach_every_parameter_and_zero_grad_clears_them():
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    out = model([0.5, -0.5])
    out.backward()
    assert all(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_inputs_are_checked():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="str"):
        model([1.0, "a"])


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: Neuron(0), ValueError),
        (lambda: Neuron(2.5), ValueError),
        (lambda: Neuron(True), ValueError),
        (lambda: Neuron(2, activation="softmax"), ValueError),
        (lambda: Layer(2, 0), ValueError),
        (lambda: MLP(2, []), ValueError),
        (lambda: MLP(2, [3, -1]), ValueError),
    ],
)
def test_bad_sizes_and_activations(make, error):
    with pytest.raises(error):
        make()


def test_repr():
    assert repr(Neuron(3, seed=0)) == "Neuron(3, activation='relu')"
    assert repr(Layer(3, 2, "tanh", seed=0)) == "Layer(3, 2, activation='tanh')"
    assert (
        repr(MLP(2, [16, 16, 1], seed=0))
        == "MLP(2, [16, 16, 1], activation='relu', output_activation='linear')"
    )


def test_module_base_class():
    m = Module()
    assert m.parameters() == []
    m.zero_grad()


@pytest.mark.parametrize(
    ("opt", "loss"),
    [
        (lambda ps: SGD(ps, lr=0.5, momentum=0.9), "bce"),
        (lambda ps: Adam(ps, lr=0.05), "bce"),
        (lambda ps: SGD(ps, lr=1.0), "hinge"),
    ],
)
def test_small_mlp_learns_moons(opt, loss):
    X, y = make_moons(n=40, noise=0.1, seed=1)
    X, y01, ypm = X.tolist(), y.tolist(), (y * 2 - 1).tolist()
    model = MLP(2, [8, 8, 1], seed=0)
    optimizer = opt(model.parameters())
    history = []
    for _ in range(60):
        scores = [model(x) for x in X]
        if loss == "bce":
            total = binary_cross_entropy_with_logits(scores, y01)
        else:
            total = hinge(scores, ypm)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        history.append(total.data)
    assert history[-1] < 0.25 * history[0]
    accuracy = np.mean([(model(x).data > 0) == (t == 1) for x, t in zip(X, ypm, strict=True)])
    assert accuracy >= 0.9
