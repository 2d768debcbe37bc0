# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Train an MLP on the moons
#
# This notebook trains a small neural network to separate two classes of points in the
# plane, with the `backprop` engine alone: a model from `backprop.nn`, a loss from
# `backprop.losses` and an optimiser from `backprop.optim`. It uses the two-moons toy
# data set, and each step says what to change to use your own data instead.
#
# **Prerequisites:** the [tutorial](../../tutorial/), up to
# [gradient descent](../../tutorial/08-gradient-descent/). Run it yourself:
# [download this notebook](train-moons.py) (a plain `.py` file) and open it in Jupyter
# with [jupytext](https://jupytext.readthedocs.io), or run it as a plain Python script.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display

from backprop import Value, topological_order
from backprop.datasets import make_moons
from backprop.figures import plot_html
from backprop.losses import hinge, l2
from backprop.nn import MLP
from backprop.optim import SGD

# %% [markdown]
# ## 1. The data
#
# A classifier needs inputs `X`, one row per example, and labels `y`, one class per
# example. `make_moons` returns 100 points in two interleaving half circles: `X` has
# shape `(100, 2)`, `y` holds the classes 0 and 1. No straight line separates them,
# so the network must learn a curved boundary.
#
# *Your data:* any NumPy array of shape `(n, features)` and labels in `{0, 1}` will do.
# *Standardise* each feature first: subtract its mean and divide by its standard
# deviation, so that every feature has mean 0 and standard deviation 1. The initial
# weights (uniform in $[-1, 1]$) are sized for inputs of about that size; a feature
# measured in thousands would swamp the others and make the first steps huge. The moons
# need no scaling: their features are already of that size, as the second cell below
# checks.

# %%
X, y = make_moons(n=100, noise=0.1, seed=0)
assert X.shape == (100, 2) and sorted(set(y.tolist())) == [0, 1]
assert np.bincount(y).tolist() == [50, 50]

fig, ax = plt.subplots(figsize=(5, 4))
for label, marker, colour in ((0, "o", "tab:blue"), (1, "s", "tab:orange")):
    ax.scatter(*X[y == label].T, marker=marker, c=colour, edgecolor="k", label=f"class {label}")
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Two moons: 100 points")
ax.legend()
display(HTML(plot_html(fig)))


# %%
def standardise(features):
    """Each column shifted to mean 0 and scaled to standard deviation 1."""
    return (features - features.mean(axis=0)) / features.std(axis=0)


Z = standardise(X)  # what you would do with your own data
assert np.allclose(Z.mean(axis=0), 0.0) and np.allclose(Z.std(axis=0), 1.0)
print("means of the moons' features:             ", X.mean(axis=0).round(2))
print("standard deviations of the moons' features:", X.std(axis=0).round(2))
assert np.all(np.abs(X.mean(axis=0)) < 1)  # already about centred
assert np.all((X.std(axis=0) > 0.3) & (X.std(axis=0) < 1.5))  # and of about unit size

# %% [markdown]
# ## 2. The model
#
# `MLP(2, [16, 16, 1])` is a
# [multilayer perceptron](../../reference/glossary/#multilayer-perceptron): 2 inputs,
# two hidden layers of 16 neurons, and one linear output neuron (no activation). Its
# output is a score $s$; we predict class 1 when $s > 0$ and class 0 otherwise.
#
# The hidden neurons use the [ReLU](../../reference/glossary/#relu) activation,
# $\operatorname{relu}(z) = \max(0, z)$, instead of the tutorial's tanh: it passes a
# positive weighted sum $z$ through unchanged and turns a negative one into 0, so its
# slope is 1 for $z > 0$ and 0 for $z < 0$. At $z = 0$ it has a
# [kink](../../reference/glossary/#kink), where no derivative exists; the engine uses 0
# there.
# [Page 9 of the tutorial](../../tutorial/09-summary/#kinks-where-a-derivative-does-not-exist)
# explains what that means and why it rarely matters.
#
# The `seed` fixes the random initial weights, so every run of this notebook gives the
# same result. Random, unequal starting weights are not a detail: neurons that start
# equal stay equal
# ([page 11](../../tutorial/11-layers-and-networks/#why-the-weights-start-random)).

# %%
model = MLP(2, [16, 16, 1], seed=0)
params = model.parameters()
print(model)
print(f"{len(params)} parameters")
assert len(params) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1) == 337

# relu's slope: 1 right of the kink, 0 left of it, and the engine's 0 at the kink itself
for z, slope in ((0.5, 1.0), (-0.5, 0.0), (0.0, 0.0)):
    v = Value(z)
    v.relu().backward()
    assert v.grad == slope

# %% [markdown]
# ## 3. The loss
#
# We use the [hinge loss](../../reference/glossary/#hinge-loss) of micrograd's demo (the
# loss of a support vector machine, SVM). It wants the labels as
# $t_i \in \{-1, +1\}$, and for the score $s_i$ of point $i$ it charges
# $\max(0, 1 - t_i s_i)$, averaged over the $n = 100$ points. The product $t_i s_i$ is
# positive when the score has the right sign; the loss is 0 once it is at least 1 (right
# side, with a margin of at least 1), and grows in a straight line the further it falls
# short. So its slope with respect to $s_i$ is $-t_i / n$ while the margin is short, and 0
# once it is met: correctly classified points with a safe margin stop pulling on the
# weights. At $t_i s_i = 1$ exactly it has a kink, like relu (it is computed with relu,
# so the engine uses 0 there too).
#
# To it we add a small [$L_2$ penalty](../../reference/glossary/#l2-penalty),
# $\alpha \sum_j \theta_j^2$ over all parameters $\theta_j$, with $\alpha = 10^{-4}$.
# Its gradient is $2\alpha\theta_j$, so every gradient-descent step also pulls each
# parameter a little towards 0 (a step on the penalty alone multiplies each parameter by
# $1 - 2\eta\alpha$, which is why it is also called *weight decay*): the weights do not
# grow unless the data asks for it.
#
# *Your data:* `backprop.losses.binary_cross_entropy_with_logits(scores, y)` is the
# other common choice for two classes (labels 0 and 1), and `softmax_cross_entropy`
# handles more than two classes (with one output neuron per class).

# %%
targets = (y * 2 - 1).tolist()  # {0, 1} -> {-1, +1}
assert sorted(set(targets)) == [-1, 1]

# The hinge loss's slopes on three scores of class +1: short of the margin, past it, and
# exactly on the kink at t * s = 1
demo_scores = [Value(0.5), Value(2.0), Value(1.0)]
hinge(demo_scores, [1, 1, 1]).backward()
assert [s.grad for s in demo_scores] == [-1 / 3, 0.0, 0.0]
# The penalty's gradient is 2 * alpha * theta
demo_params = [Value(3.0), Value(-0.5)]
(1e-4 * l2(demo_params)).backward()
assert [p.grad for p in demo_params] == [2e-4 * 3.0, 2e-4 * -0.5]


def loss_and_accuracy():
    """One forward pass over the whole batch: the loss and the fraction classified right."""
    scores = [model(list(x)) for x in X]
    loss = hinge(scores, targets) + 1e-4 * l2(params)
    accuracy = np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, targets, strict=True)])
    return loss, accuracy


loss, accuracy = loss_and_accuracy()
print(f"before training: loss {loss.data:.4f}, accuracy {accuracy:.0%}")
print(f"the graph of one loss: {len(topological_order(loss)):,} values")
assert accuracy < 0.95

# %% [markdown]
# ## 4. Training
#
# Each step is the loop from the tutorial: a
# [forward pass](../../reference/glossary/#forward-pass) over all 100 points,
# `zero_grad()` (gradients accumulate), `backward()`, and an optimiser step.
#
# The optimiser is `backprop.optim.SGD`, named after
# [stochastic gradient descent](../../reference/glossary/#stochastic-gradient-descent),
# which computes each step's gradient on a random sample of the data (a *mini-batch*).
# Here every step uses all 100 points, so nothing is random: `SGD` applied to the full
# batch is plain [gradient descent](../../reference/glossary/#gradient-descent),
# $\theta \leftarrow \theta - \eta \nabla L(\theta)$, as on page 8 (the loop checks it
# at every step). The [learning rate](../../reference/glossary/#learning-rate) $\eta$ falls
# linearly from 1.0 towards 0.1 over the run, as in micrograd's demo: large steps first,
# small ones to settle.

# %%
steps = 60
optimizer = SGD(params, lr=1.0)
history = []
start = time.perf_counter()
for k in range(steps):
    optimizer.lr = 1.0 - 0.9 * k / steps
    loss, accuracy = loss_and_accuracy()
    optimizer.zero_grad()
    loss.backward()
    expected = [p.data - optimizer.lr * p.grad for p in params]
    optimizer.step()
    assert [p.data for p in params] == expected  # full batch: plain gradient descent
    history.append((loss.data, accuracy))
    if k % 10 == 0 or k == steps - 1:
        print(f"step {k:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")
seconds = time.perf_counter() - start
print(f"{steps} steps in {seconds:.1f} s")
assert 0.1 < optimizer.lr < 0.12  # the last step's rate

# %% [markdown]
# The loss falls (with a few bumps while the steps are large) and the accuracy rises;
# both are measured on the batch before each step's update.

# %%
losses = [h[0] for h in history]
accuracies = [h[1] for h in history]
assert losses[-1] < 0.1 * losses[0]

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
left.plot(losses)
left.set(xlabel="step", ylabel="loss", title="Loss", yscale="log")
right.plot(accuracies)
right.set(xlabel="step", ylabel="accuracy", title="Accuracy on the 100 points", ylim=(0, 1.05))
fig.tight_layout()
display(HTML(plot_html(fig)))

# %% [markdown]
# ## 5. The result
#
# After training, the model classifies (almost) every point correctly:

# %%
final_loss, final_accuracy = loss_and_accuracy()
print(f"after training: loss {final_loss.data:.4f}, accuracy {final_accuracy:.0%}")
assert final_accuracy >= 0.95

# %% [markdown]
# To see the boundary it learned, evaluate the model on a grid of points and colour
# each by the sign of its score. The boundary is where the score is 0. Each grid
# point is one forward pass through the engine.

# %%
x1 = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 40)
x2 = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 40)
grid1, grid2 = np.meshgrid(x1, x2)
start = time.perf_counter()
scores = np.array([model([a, b]).data for a, b in zip(grid1.ravel(), grid2.ravel(), strict=True)])
scores = scores.reshape(grid1.shape)
print(f"{scores.size:,} forward passes in {time.perf_counter() - start:.1f} s")

fig, ax = plt.subplots(figsize=(5.5, 4.2))
ax.contourf(
    grid1, grid2, scores > 0, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"], alpha=0.8
)
ax.contour(grid1, grid2, scores, levels=[0.0], colors="k", linewidths=1)
for label, marker, colour in ((0, "o", "tab:blue"), (1, "s", "tab:orange")):
    ax.scatter(*X[y == label].T, marker=marker, c=colour, edgecolor="k", label=f"class {label}")
ax.set(
    xlabel="$x_1$",
    ylabel="$x_2$",
    title=f"Decision boundary after {steps} steps ({final_accuracy:.0%} correct)",
)
ax.legend(loc="lower left")
display(HTML(plot_html(fig)))

# %% [markdown]
# ## Using your own data
#
# - Put your inputs in `X` (one row per example) and your labels in `y`, standardised
#   as in step 1; set the first argument of `MLP` to the number of features.
# - This notebook measures accuracy on the points it trained on. On real data, hold
#   out a test set (say 20 % of the examples) and report the accuracy on it instead.
# - More examples make each step slower: the engine works one number at a time, and
#   every step here builds and walks a graph with the size printed in step 3. For
#   thousands of examples, train on a random *mini-batch* of a few dozen per step: that
#   is stochastic gradient descent, the method `SGD` is named after.
# - If the loss does not fall, lower the learning rate; if it jumps around or becomes
#   huge, lower it more. To check the gradients themselves, see
#   [Check a gradient](../../how-to/check-a-gradient/).
