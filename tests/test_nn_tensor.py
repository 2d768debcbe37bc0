"""Tests of the tensor modules of backprop.nn: Linear, the activations and Sequential, against
hand-written numpy, against torch.nn, and against the scalar engine's MLP."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop import Tensor, Value
from backprop.datasets import make_moons
from backprop.losses import mse, softmax_cross_entropy
from backprop.nn import MLP, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from backprop.optim import SGD, Adam
from backprop.tensor import cross_entropy

RNG = np.random.default_rng(1234)
X = RNG.normal(size=(5, 3))
G = RNG.normal(size=(5, 4))  # a non-uniform upstream gradient


# ----------------------------------------------------------------------------- Linear


def test_linear_forward_and_backward_match_hand_written_numpy():
    layer = Linear(3, 4, seed=0)
    W, b = layer.weight.data.copy(), layer.bias.data.copy()
    x = Tensor(X, requires_grad=True)
    y = layer(x)
    np.testing.assert_allclose(y.data, X @ W.T + b, rtol=1e-15, atol=1e-15)
    y.backward(G)
    np.testing.assert_allclose(x.grad, G @ W, rtol=1e-14)  # dL/dx = G W
    np.testing.assert_allclose(layer.weight.grad, G.T @ X, rtol=1e-14)  # dL/dW = Gᵀ X
    np.testing.assert_allclose(layer.bias.grad, G.sum(axis=0), rtol=1e-14)  # dL/db = Σ rows


def test_linear_takes_one_input_or_several_batch_axes():
    layer = Linear(3, 4, seed=0)
    W, b = layer.weight.data, layer.bias.data
    one = layer(X[0])
    assert one.shape == (4,)
    np.testing.assert_allclose(one.data, W @ X[0] + b, rtol=1e-14)
    x3 = np.stack([X, 2 * X])  # shape (2, 5, 3)
    y = layer(x3)
    assert y.shape == (2, 5, 4)
    g3 = np.stack([G, -G])
    y.backward(g3)
    np.testing.assert_allclose(layer.weight.grad, G.T @ X - G.T @ (2 * X), atol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, np.zeros(4), atol=1e-13)


def test_linear_without_bias():
    layer = Linear(3, 4, bias=False, seed=0)
    assert layer.bias is None and layer.parameters() == [layer.weight]
    np.testing.assert_allclose(layer(X).data, X @ layer.weight.data.T, rtol=1e-15)
    assert repr(layer) == "Linear(in_features=3, out_features=4, bias=False)"


def test_linear_accepts_array_likes_and_tensors():
    layer = Linear(2, 1, seed=0)
    for x in ([[1.0, 2.0]], np.array([[1.0, 2.0]]), Tensor([[1.0, 2.0]])):
        assert layer(x).shape == (1, 1)
    assert layer([[1, 2]]).dtype == np.float64  # integers are converted to the layer's dtype


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 8, seed=rng, dtype=np.float32), Tanh(), Linear(8, 2, seed=rng))
    assert model[0].weight.dtype == np.float32 and model[2].weight.dtype == np.float64
    layer = Linear(3, 4, seed=0, dtype=np.float32)
    assert repr(layer) == "Linear(in_features=3, out_features=4, bias=True, dtype=float32)"
    y = layer(X)  # a float64 array is converted to the layer's float32
    assert y.dtype == np.float32
    y.backward(G.astype(np.float32))
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    with pytest.raises(TypeError, match="has float32 parameters but got a float64 input"):
        layer(Tensor(X))


def test_linear_matches_torch_float64():
    torch = pytest.importorskip("torch")
    ours = Linear(3, 4, seed=0)
    theirs = torch.nn.Linear(3, 4, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x, tx = Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13, atol=1e-15)
    y.backward(G)
    ty.backward(torch.from_numpy(G))
    for a, b in [
        (x.grad, tx.grad),
        (ours.weight.grad, theirs.weight.grad),
        (ours.bias.grad, theirs.bias.grad),
    ]:
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------- initialisation


def test_initialisation_is_uniform_within_one_over_sqrt_fan_in():
    layer = Linear(400, 300, seed=0)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.data, layer.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.999 * bound  # 120,000 draws reach close to the bound
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)  # a uniform's std


def test_initialisation_is_torch_s_default():
    """torch.nn.Linear draws kaiming_uniform_(a=sqrt(5)): the bound 1/sqrt(fan_in)."""
    torch = pytest.importorskip("torch")
    import inspect

    source = inspect.getsource(torch.nn.Linear.reset_parameters)
    assert "kaiming_uniform_(self.weight, a=math.sqrt(5))" in source
    assert "bound = 1 / math.sqrt(fan_in)" in source  # the bias
    torch.manual_seed(0)
    for fan_in in (4, 400):
        theirs = torch.nn.Linear(fan_in, 300)
        bound = 1 / math.sqrt(fan_in)
        tw, tb = theirs.weight.detach().numpy(), theirs.bias.detach().numpy()
        assert 0.999 * bound < np.abs(tw).max() <= bound
        assert np.abs(tb).max() <= bound
        ours = Linear(fan_in, 300, seed=0).weight.data
        assert ours.std() == pytest.approx(tw.std(), rel=0.03)
        assert np.abs(ours).max() == pytest.approx(np.abs(tw).max(), rel=1e-3)


def test_same_seed_same_layer():
    a, b, c = Linear(3, 4, seed=0), Linear(3, 4, seed=0), Linear(3, 4, seed=1)
    assert np.array_equal(a.weight.data, b.weight.data)
    assert np.array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    # The weight is drawn first, then the bias, from numpy's generator.
    rng = np.random.default_rng(0)
    k = 1 / math.sqrt(3)
    assert np.array_equal(a.weight.data, rng.uniform(-k, k, (4, 3)))
    assert np.array_equal(a.bias.data, rng.uniform(-k, k, 4))


def test_a_shared_generator_gives_each_layer_new_numbers():
    def model(seed):
        rng = np.random.default_rng(seed)
        return Sequential(Linear(3, 3, seed=rng), ReLU(), Linear(3, 3, seed=rng))

    m1, m2 = model(7), model(7)
    assert all(
        np.array_equal(p.data, q.data)
        for p, q in zip(m1.parameters(), m2.parameters(), strict=True)
    )
    assert not np.array_equal(m1[0].weight.data, m1[2].weight.data)


# ------------------------------------------------------------------- parameters and co.


def test_parameters_order_and_kind():
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 4, seed=rng), Tanh(), Linear(4, 2, seed=rng), Sigmoid())
    params = model.parameters()
    assert [p.shape for p in params] == [(4, 3), (4,), (2, 4), (2,)]
    assert params[0] is model[0].weight and params[3] is model[2].bias
    assert all(isinstance(p, Tensor) and p.requires_grad and p.is_leaf for p in params)
    assert Tanh().parameters() == [] and ReLU().parameters() == []


def test_zero_grad_sets_tensor_grads_to_none():
    model = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 1, seed=1))
    model(X).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_the_module_base_class_serves_both_engines():
    class Both(Module):
        def __init__(self) -> None:
            self.v, self.t = Value(1.0), Tensor([1.0, 2.0], requires_grad=True)

        def parameters(self):
            return [self.v, self.t]

    m = Both()
    m.v.grad, m.t.grad = 3.0, np.ones(2)
    m.zero_grad()
    assert m.v.grad == 0.0 and m.t.grad is None
    m.set_parameters([5.0, [3.0, 4.0]])
    assert m.v.data == 5.0 and m.t.data.tolist() == [3.0, 4.0]


def test_set_parameters_copies_in_place_and_checks_everything_first():
    layer = Linear(2, 3, seed=0, dtype=np.float32)
    data = layer.weight.data
    w, b = np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0])
    layer.set_parameters([w, Tensor(b)])
    assert layer.weight.data is data and layer.weight.dtype == np.float32
    assert layer.weight.data.tolist() == w.tolist() and layer.bias.data.tolist() == b.tolist()
    w[0, 0] = 99.0  # a copy was taken
    assert layer.weight.data[0, 0] == 0.0
    with pytest.raises(ValueError, match=r"parameter 1 has shape \(3,\), got a value of shape"):
        layer.set_parameters([np.zeros((3, 2)), np.zeros(2)])
    with pytest.raises(ValueError, match="expected 2 parameter values, got 1"):
        layer.set_parameters([np.zeros((3, 2))])
    with pytest.raises(TypeError):
        layer.set_parameters([np.zeros((3, 2)), ["a", "b", "c"]])
    assert layer.weight.data.tolist() == np.arange(6.0).reshape(3, 2).tolist()  # unchanged


# ------------------------------------------------------------------------ activations


@pytest.mark.parametrize(
    ("module", "f", "df"),
    [
        (ReLU(), lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
        (Tanh(), np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        (
            Sigmoid(),
            lambda z: 1 / (1 + np.exp(-z)),
            lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
        ),
    ],
    ids=["ReLU", "Tanh", "Sigmoid"],  # stable ids: both test processes must agree
)
def test_activations_forward_and_backward(module, f, df):
    x = Tensor(X, requires_grad=True)
    y = module(x)
    np.testing.assert_allclose(y.data, f(X), rtol=1e-14)
    y.backward(G[:, :3])
    np.testing.assert_allclose(x.grad, G[:, :3] * df(X), rtol=1e-12, atol=1e-15)
    assert module(X.tolist()).shape == X.shape  # array-likes become Tensors
    assert repr(module) == type(module).__name__ + "()"


# ------------------------------------------------------------------------- Sequential


def test_sequential_is_a_list_of_modules():
    layers = [Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1)]
    model = Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, Sequential) and list(head) == layers[:2]
    np.testing.assert_array_equal(model(X).data, layers[2](layers[1](layers[0](X))).data)
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )
    empty = Sequential()
    assert len(empty) == 0 and empty.parameters() == [] and repr(empty) == "Sequential()"
    assert empty(X) is X


def test_sequential_nests():
    inner = Sequential(Linear(3, 4, seed=0), Tanh())
    model = Sequential(inner, Linear(4, 1, seed=1))
    assert len(model.parameters()) == 4 and model.parameters()[0] is inner[0].weight
    assert "  (0): Sequential(" in repr(model)


def test_sequential_mlp_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = Sequential(
        Linear(3, 8, seed=rng), Tanh(), Linear(8, 6, seed=rng), ReLU(), Linear(6, 4, seed=rng)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 6),
        torch.nn.ReLU(),
        torch.nn.Linear(6, 4),
    ).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert tuple(q.shape) == p.shape  # the same layout: weight (out, in), then bias
            q.copy_(torch.from_numpy(p.data))
    labels = np.array([0, 3, 1, 1, 2])
    loss = cross_entropy(ours(X), labels)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(X)), torch.from_numpy(labels))
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-13)
    loss.backward()
    tloss.backward()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-11, atol=1e-14)


# --------------------------------------------------------------------------- bad input


def test_wrong_input_width_names_the_layer_and_the_shape():
    layer = Linear(3, 4, seed=0)
    with pytest.raises(ValueError) as info:
        layer(np.zeros((2, 5)))
    assert str(info.value) == (
        "Linear(3, 4) expects inputs with 3 features in the last axis, got shape (2, 5)"
    )
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        layer(1.0)
    model = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(5, 1, seed=0))
    with pytest.raises(ValueError, match=r"Linear\(5, 1\) expects inputs with 5 features"):
        model(X)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Linear(0, 3), ValueError, "in_features must be a positive int"),
        (lambda: Linear(3, 2.5), ValueError, "out_features must be a positive int"),
        (lambda: Linear(True, 3), ValueError, "in_features"),
        (lambda: Linear(3, 3, bias=1), TypeError, "bias must be a bool"),
        (lambda: Linear(3, 3, dtype=np.int64), TypeError, "dtype must be np.float32 or"),
        (lambda: Linear(3, 3, dtype="nonsense"), TypeError, "dtype must be"),
        (lambda: Sequential(Linear(2, 2), np.tanh), TypeError, "argument 1 must be a Module"),
        (lambda: Sequential(ReLU), TypeError, "forget the parentheses"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_input_data():
    with pytest.raises(TypeError, match="real numbers"):
        Linear(2, 1, seed=0)([["a", "b"]])
    with pytest.raises(TypeError, match="do not mix"):
        ReLU()([Value(1.0)])


# ------------------------------------------------------- the two engines, one network


def copy_mlp(scalar: MLP, activation) -> Sequential:
    """The tensor engine's twin of a scalar MLP: neuron j's weights are row j of W."""
    modules: list[Module] = []
    for i, layer in enumerate(scalar.layers):
        lin = Linear(layer.nin, layer.nout, seed=0)
        lin.set_parameters(
            [
                [[w.data for w in n.w] for n in layer.neurons],
                [n.b.data for n in layer.neurons],
            ]
        )
        modules.append(lin)
        if i < len(scalar.layers) - 1:
            modules.append(activation())
    return Sequential(*modules)


def scalar_grads_as_arrays(scalar: MLP) -> list[np.ndarray]:
    out = []
    for layer in scalar.layers:
        out.append(np.array([[w.grad for w in n.w] for n in layer.neurons]))
        out.append(np.array([n.b.grad for n in layer.neurons]))
    return out


@pytest.mark.parametrize(
    ("activation", "name"), [(Tanh, "tanh"), (ReLU, "relu"), (Sigmoid, "sigmoid")]
)
@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
def test_the_scalar_and_tensor_engines_agree(activation, name, loss):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 3))
    nout = 3 if loss == "cross-entropy" else 1
    scalar = MLP(3, [5, 4, nout], activation=name, seed=1)
    tensor = copy_mlp(scalar, activation)

    outputs = [scalar(list(row)) for row in x]
    out = tensor(x)
    if loss == "cross-entropy":
        labels = rng.integers(0, 3, size=6)
        scalar_loss = softmax_cross_entropy(outputs, labels.tolist())
        tensor_loss = cross_entropy(out, labels)
    else:
        targets = rng.normal(size=6)
        scalar_loss = mse(outputs, targets.tolist())
        tensor_loss = ((out[:, 0] - targets) ** 2).mean()
    scalar_loss.backward()
    tensor_loss.backward()
    assert tensor_loss.item() == pytest.approx(scalar_loss.data, rel=1e-12, abs=1e-12)
    for g, p in zip(scalar_grads_as_arrays(scalar), tensor.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, g, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- it learns


@pytest.mark.parametrize("make_opt", [lambda ps: SGD(ps, lr=0.5, momentum=0.9), Adam])
def test_a_float32_mlp_learns_moons(make_opt):
    X_moons, y = make_moons(n=100, noise=0.1, seed=1)
    x = X_moons.astype(np.float32)
    rng = np.random.default_rng(0)
    model = Sequential(
        Linear(2, 16, seed=rng, dtype=np.float32),
        Tanh(),
        Linear(16, 16, seed=rng, dtype=np.float32),
        Tanh(),
        Linear(16, 2, seed=rng, dtype=np.float32),
    )
    opt = make_opt(model.parameters())
    if isinstance(opt, Adam):
        opt.lr = 0.05
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        assert loss.dtype == np.float32
    assert losses[-1] < 0.25 * losses[0]
    accuracy = np.mean(model(x).data.argmax(axis=1) == y)
    assert accuracy >= 0.95
    assert all(p.data.dtype == np.float32 for p in model.parameters())
