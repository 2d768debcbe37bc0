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
# # Reading handwritten digits
#
# This notebook trains a classifier for real data: small scanned images of handwritten
# digits, 0 to 9. It uses the tensor engine alone, with every piece from the tutorial: a
# network from `backprop.nn` (`Sequential`, `Linear`, `ReLU`), the softmax cross-entropy
# `backprop.tensor.cross_entropy`, shuffled mini-batches, and the optimiser Adam from
# `backprop.optim`. We hold back a quarter of the images as a test set, never used for
# training or for any choice, and the network must read at least 95% of them correctly
# (the notebook checks it). Then we look at where it goes wrong: a confusion matrix, and
# the digits it misread.
#
# **Prerequisites:** the tensor chapter and what follows it, pages 13 to 20 of the
# tutorial: [from scalars to tensors](../../tutorial/13-from-scalars-to-tensors/),
# [the gradient of a matrix product](../../tutorial/14-matrix-gradients/),
# [broadcasting](../../tutorial/15-broadcasting-and-reductions/),
# [two engines, one network](../../tutorial/16-two-engines-one-network/),
# [training](../../tutorial/17-training/) (mini-batches, a held-out set) and
# [optimisers](../../tutorial/20-optimisers/) (Adam). Run it yourself:
# [download this notebook](digits.py) (a plain `.py` file) and open it in Jupyter with
# [jupytext](https://jupytext.readthedocs.io), or run it as a plain Python script. It
# needs scikit-learn, for the data and the split only.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from backprop import no_grad
from backprop.figures import plot_html
from backprop.nn import Linear, ReLU, Sequential
from backprop.optim import Adam
from backprop.tensor import cross_entropy

# %% [markdown]
# ## 1. The data
#
# scikit-learn ships a small set of handwritten digits inside the package itself, so
# `load_digits()` reads them from disk: nothing is downloaded. Each image is 8 by 8
# pixels, and each pixel is a whole number from 0 to 16 (drawn below from white to
# black): the count of inked dots in a 4 by 4 block of the original 32 by 32 scan, as the
# data set's description says. `X` holds one image per row, its 64 pixels read row by
# row; `y` holds the digit each image shows.

# %%
digits = load_digits()
X, y = digits.data, digits.target
print(f"X: shape {X.shape}, pixel values from {X.min():.0f} to {X.max():.0f}")
print("images of each digit:", dict(enumerate(np.bincount(y).tolist())))
assert X.shape == (1797, 64) and y.shape == (1797,)
assert np.array_equal(X, digits.images.reshape(1797, 64))  # the rows are the images, flattened
assert set(np.unique(X)) <= set(range(17))  # whole numbers from 0 to 16
description = " ".join(digits.DESCR.split())  # the data set's own description
assert "32x32 bitmaps are divided into nonoverlapping blocks of 4x4" in description

fig, axes = plt.subplots(3, 10, figsize=(9, 3))
for ax, image, label in zip(axes.ravel(), digits.images[:30], y[:30], strict=True):
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(str(label), fontsize=10)
    ax.axis("off")
fig.suptitle("The first 30 images, with their labels")
fig.tight_layout()
display(HTML(plot_html(fig)))

# %% [markdown]
# ## 2. A training set and a test set
#
# A quarter of the images go into the test set. The split is *stratified*: each digit
# has the same share in both sets (so the test set is not short of, say, eights by bad
# luck), and *seeded*, so every run draws the same split. The network will learn from
# the training set only; the test set is looked at to report the result (page 18's
# rule: a set that reports a result must not have been used for any choice).

# %%
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"training set: {len(y_train)} images, test set: {len(y_test)} images")
print("digits in the test set:", np.bincount(y_test).tolist())
assert (len(y_train), len(y_test)) == (1347, 450)
# stratified: each digit's share of the test set is its share of the data, within one image
assert np.all(np.abs(np.bincount(y_test) - 0.25 * np.bincount(y)) <= 1)

# %% [markdown]
# ## 3. Standardise, with the training set's statistics
#
# The network's first layer starts with weights sized for inputs of about unit size
# (uniform in $[-\frac{1}{8}, \frac{1}{8}]$ for 64 inputs, PyTorch's default). So we
# *[standardise](../../reference/glossary/#standardise)* each pixel: subtract its mean and divide by
# its standard deviation.
#
# Both numbers come from the training set only, and the very same numbers are then
# applied to the test set. Computing them on all the images would let the test set
# shape the model's input, a small leak of exactly the information it must not give.
# (And a real classifier meets new images one at a time, with no test set to compute
# statistics from.)
#
# Some pixels at the edge of the images are white (0) in every training image, so their
# standard deviation is 0; we divide those by 1 instead, leaving them at 0.

# %%
mean = X_train.mean(axis=0)
std = X_train.std(axis=0)
constant = std == 0
print(f"{constant.sum()} pixels are the same in every training image")
rows, columns = np.divmod(np.flatnonzero(constant), 8)
assert np.all(X_train[:, constant] == 0)  # always white
assert np.all(np.isin(rows, (0, 7)) | np.isin(columns, (0, 7)))  # on the edge
std[constant] = 1.0
Z_train = (X_train - mean) / std
Z_test = (X_test - mean) / std  # the training set's mean and std, not the test set's
assert np.allclose(Z_train.mean(axis=0), 0)
assert np.allclose(Z_train.std(axis=0)[~constant], 1)
# the test set is close to standard, but not exactly: its statistics were never used
print(f"largest pixel mean of the standardised test set: {np.abs(Z_test.mean(axis=0)).max():.2f}")
assert np.abs(Z_test.mean(axis=0)).max() > 1e-3

# %% [markdown]
# ## 4. The model
#
# A multilayer perceptron with one hidden layer: 64 inputs (the pixels), 64 ReLU neurons,
# and 10 outputs, one score (logit) per digit. The prediction is the digit with the
# largest score, and the loss is the softmax cross-entropy of the scores.

# %%
hidden = 64


def make_model(seed):
    """Linear(64, hidden), ReLU, Linear(hidden, 10), with weights drawn from `seed`."""
    rng = np.random.default_rng(seed)
    return Sequential(Linear(64, hidden, seed=rng), ReLU(), Linear(hidden, 10, seed=rng))


model = make_model(seed=0)
print(model)
n_params = sum(p.size for p in model.parameters())
print(f"{n_params:,} parameters")
assert n_params == (64 * hidden + hidden) + (hidden * 10 + 10) == 4810
assert model(Z_train[:5]).shape == (5, 10)  # five images in, ten scores each out

# %% [markdown]
# ## 5. Training
#
# Page 17's loop, one mini-batch of 32 images per step, the training set shuffled afresh
# at each epoch, for 20 epochs. The optimiser is Adam with its default learning rate,
# $10^{-3}$ (the default of `torch.optim.Adam` too). These are common defaults, not
# values tuned on the test set. To tune them, carve a validation set out of the training
# set, as on page 18, and leave the test set alone.
#
# After each epoch we measure the loss and the accuracy on both sets, inside
# `no_grad()`: we only look, so no graph is needed.


# %%
def evaluate(model, Z, labels):
    """The mean cross-entropy and the fraction of correct predictions on (Z, labels)."""
    with no_grad():
        logits = model(Z)
        loss = cross_entropy(logits, labels).item()
    return loss, float((logits.data.argmax(axis=1) == labels).mean())


def train(model, epochs=20, batch_size=32, lr=1e-3, seed=0):
    """Mini-batch training with Adam; the history of (train, test) loss and accuracy."""
    rng = np.random.default_rng(seed)
    optimizer = Adam(model.parameters(), lr=lr)
    history = {"train loss": [], "train accuracy": [], "test loss": [], "test accuracy": []}
    for _ in range(epochs):
        order = rng.permutation(len(Z_train))  # a fresh shuffle every epoch
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = cross_entropy(model(Z_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        for name, (Z, labels) in (("train", (Z_train, y_train)), ("test", (Z_test, y_test))):
            loss, accuracy = evaluate(model, Z, labels)
            history[f"{name} loss"].append(loss)
            history[f"{name} accuracy"].append(accuracy)
    return history


print(f"before training: test accuracy {evaluate(model, Z_test, y_test)[1]:.1%}")
start = time.perf_counter()
history = train(model)
seconds = time.perf_counter() - start
steps = 20 * -(-len(Z_train) // 32)  # 20 epochs of ceil(1347 / 32) = 43 steps
assert steps == 860
print(f"20 epochs, {steps} steps, in {seconds:.1f} s")
for epoch in (0, 4, 9, 19):
    print(
        f"epoch {epoch + 1:2}: "
        + ", ".join(f"{name} {values[epoch]:.3f}" for name, values in history.items())
    )

# %% [markdown]
# ## 6. Loss and accuracy, epoch by epoch
#
# The training loss falls all the way; the test loss falls with it, then levels off
# above it: the network does better on the images it learned from than on new ones, as
# is usual. The test curve is here to look at, not to choose anything by.

# %%
epochs = np.arange(1, 21)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
for name, colour, style in (("train", "C0", "o-"), ("test", "C1", "s--")):
    left.plot(epochs, history[f"{name} loss"], style, ms=3, color=colour, label=name)
    right.plot(epochs, history[f"{name} accuracy"], style, ms=3, color=colour, label=name)
left.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="Loss")
lowest = min(history["train accuracy"] + history["test accuracy"])
right.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(lowest - 0.02, 1.005))
left.legend()
right.legend()
fig.tight_layout()
display(HTML(plot_html(fig)))
train_curve, test_curve = np.array(history["train loss"]), np.array(history["test loss"])
assert np.all(np.diff(train_curve) < 0) and train_curve[-1] < train_curve[0] / 10
assert test_curve[-1] < test_curve[0] / 5
assert test_curve[4] - test_curve[9] > 2 * (test_curve[14] - test_curve[19])  # levelling off
assert np.all(train_curve[4:] < test_curve[4:])  # better on the images it learned from

# %% [markdown]
# ## 7. The result
#
# The accuracy on the 450 test images, which played no part in training:

# %%
test_loss, test_accuracy = evaluate(model, Z_test, y_test)
with no_grad():
    predicted = model(Z_test).data.argmax(axis=1)
wrong = np.flatnonzero(predicted != y_test)
print(f"test accuracy: {test_accuracy:.1%} ({len(y_test) - len(wrong)} of {len(y_test)} right)")
assert test_accuracy >= 0.95

# %% [markdown]
# ## 8. Which digits it confuses
#
# A *[confusion matrix](../../reference/glossary/#confusion-matrix)* counts, for every true digit (a
# row) and every predicted digit (a column), how many test images fall in that cell. The diagonal
# holds the correct predictions; everything off it is a mistake, and where it lies says which digit
# was taken for which.

# %%
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
assert confusion.sum() == len(y_test) and np.trace(confusion) == len(y_test) - len(wrong)

fig, ax = plt.subplots(figsize=(5.6, 4.8))
ax.imshow(confusion, cmap="Blues")
for true in range(10):
    for guess in range(10):
        count = confusion[true, guess]
        if count:
            colour = "white" if count > confusion.max() / 2 else "black"
            ax.text(guess, true, str(count), ha="center", va="center", color=colour, fontsize=9)
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set(xlabel="predicted digit", ylabel="true digit", title="Confusion matrix, test set")
fig.tight_layout()
display(HTML(plot_html(fig)))

off_diagonal = confusion - np.diag(np.diag(confusion))
true, guess = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)


def a(digit):
    """'a 1', 'an 8': the article to go with a digit's name."""
    return f"an {digit}" if digit == 8 else f"a {digit}"


print(f"the most common mistake: {a(true)} read as {a(guess)}, {off_diagonal[true, guess]} times")
per_digit = np.diag(confusion) / confusion.sum(axis=1)
print(f"hardest digit: {per_digit.argmin()}, {per_digit.min():.0%} of its test images read right")
print("digits read right every time:", np.flatnonzero(per_digit == 1).tolist())

# %% [markdown]
# ## 9. The digits it misread
#
# Here are the test images the network got wrong, each with its true label, the
# network's guess, and the probability it gave its guess (the softmax of its scores).
# Would you have read them right?

# %%
with no_grad():
    probabilities = model(Z_test[wrong]).softmax(axis=1).data
shown = wrong[:12]
fig, axes = plt.subplots(2, 6, figsize=(9, 4.4))
for ax, index, p in zip(axes.ravel(), shown, probabilities, strict=False):  # up to 12
    ax.imshow(X_test[index].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(f"true {y_test[index]}, read {predicted[index]}\n{p.max():.0%} sure", fontsize=9)
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle(
    f"The {len(wrong)} misread test images"
    if len(shown) == len(wrong)
    else f"{len(shown)} of the {len(wrong)} misread test images"
)
fig.tight_layout()
display(HTML(plot_html(fig)))
assert np.all(predicted[shown] != y_test[shown])
assert np.allclose(probabilities.sum(axis=1), 1)

# %% [markdown]
# ## What next
#
# - The whole network is 4,810 numbers, and every one of them was set by the same
#   backward pass you built on pages 6 and 7, applied to whole arrays as on pages 13 to 16.
# - Try a larger hidden layer, more epochs or another learning rate, and judge them on a
#   validation set carved out of the training set, not on the test set.
# - The same loop in PyTorch is the same five lines, with `torch.nn.Linear`,
#   `torch.nn.functional.cross_entropy` and `torch.optim.Adam`.
#
# Next: [the whole path](../../tutorial/23-the-whole-path/), a look back over everything
# from the first derivative to this classifier, and where to go from here.
