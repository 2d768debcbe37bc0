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
# `backprop.optim`. We split the images three ways: a training set for the gradient
# steps, a validation set for every choice we make (the learning rate, when to stop), and
# a test set looked at once, at the end, where the network must read at least 95% of the
# images correctly (the notebook checks it). Then we look at where it goes wrong: a
# confusion matrix, and the digits it misread. Two exercises close the notebook.
#
# **Prerequisites:** the tensor chapter and what follows it, pages 13 to 20 of the
# tutorial: [from scalars to tensors](../../tutorial/13-from-scalars-to-tensors/),
# [the gradient of a matrix product](../../tutorial/14-matrix-gradients/),
# [broadcasting](../../tutorial/15-broadcasting-and-reductions/),
# [two engines, one network](../../tutorial/16-two-engines-one-network/),
# [training](../../tutorial/17-training/) (mini-batches),
# [generalisation](../../tutorial/18-generalisation/) (training, validation and test
# sets, early stopping) and [optimisers](../../tutorial/20-optimisers/) (Adam). Run it
# yourself: [download this notebook](digits.py) (a plain `.py` file) and open it in
# Jupyter with [jupytext](https://jupytext.readthedocs.io), or run it as a plain Python
# script. It needs scikit-learn, for the data and the split only.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from backprop import no_grad
from backprop.figures import plot_html, series_style
from backprop.nn import Linear, ReLU, Sequential
from backprop.optim import SGD, Adam
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
# ## 2. Training, validation and test sets
#
# First a quarter of the images go into the test set. The split is *stratified*: each
# digit has the same share in both parts (so the test set is not short of, say, eights by
# bad luck), and *seeded*, so every run draws the same split. Then a fifth of the rest
# becomes the *[validation set](../../reference/glossary/#validation-set)*, split the
# same way. The gradient steps see the training set only; every choice below is made on
# the validation set; and the test set is looked at once, in section 7, to report the
# result. That is
# [page 18's rule](../../tutorial/18-generalisation/#training-validation-and-overfitting):
# a set that reports a result must not have been used for any choice.

# %%
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_rest, y_rest, test_size=0.2, stratify=y_rest, random_state=0
)
sizes = (len(y_train), len(y_val), len(y_test))
print("images in the training, validation and test sets:", sizes)
print("digits in the validation set:", np.bincount(y_val).tolist())
assert sizes == (1077, 270, 450) and sum(sizes) == len(y)
# stratified: each digit's share of each set is its share of the data, within two images
for part, share in ((y_train, 0.75 * 0.8), (y_val, 0.75 * 0.2), (y_test, 0.25)):
    assert np.all(np.abs(np.bincount(part) - share * np.bincount(y)) <= 2)

# %% [markdown]
# ## 3. Standardise, with the training set's statistics
#
# We *[standardise](../../reference/glossary/#standardise)* each pixel: subtract its
# mean and divide by its standard deviation. Both numbers come from the training set
# only, and the very same numbers are then applied to the validation and test sets.
# Computing them on all the images would let the held-out images shape the model's
# input, a small leak of exactly the information they must not give. (And a real
# classifier meets new images one at a time, with no set to compute statistics from.)
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
Z_val = (X_val - mean) / std  # the training set's mean and std, not the validation set's
Z_test = (X_test - mean) / std  # nor the test set's
assert np.allclose(Z_train.mean(axis=0), 0)
assert np.allclose(Z_train.std(axis=0)[~constant], 1)
# the validation set is close to standard, but not exactly: its statistics were never used
print(
    f"largest pixel mean of the standardised validation set: {np.abs(Z_val.mean(axis=0)).max():.2f}"
)
assert np.abs(Z_val.mean(axis=0)).max() > 1e-3

# %% [markdown]
# **Why standardising helps.**
# [Page 8's narrow bowl](../../tutorial/08-gradient-descent/#two-parameters-a-loss-surface)
# showed the trouble: the steepest direction of the loss caps the learning rate, and
# along the gentle directions gradient descent then crawls. Raw pixels make such a bowl.
# For a linear model with a squared error, the loss's second derivatives in the weights
# (its Hessian, [page 19](../../tutorial/19-loss-landscape/)) are $2X^\top X/n$, set by
# the inputs alone: a pixel that spans 0 to 16 curves the loss far more than one that is
# almost always 0, and the pixels' common positive mean adds one very steep direction.
# The spread of that matrix's eigenvalues measures how narrow the bowl is. Our network
# is not linear, but its first layer sees the same inputs. The spread for raw and for
# standardised pixels (section 5 ends by training on both):


# %%
def spread(A):
    """Largest over median nonzero eigenvalue of A.T @ A / n: how narrow the bowl is."""
    eigenvalues = np.linalg.eigvalsh(A.T @ A / len(A))
    nonzero = eigenvalues[eigenvalues > 1e-9]
    return nonzero.max() / np.median(nonzero)


print(f"eigenvalue spread: raw pixels {spread(X_train):.0f}, standardised {spread(Z_train):.0f}")
assert spread(X_train) > 20 * spread(Z_train)
mean_square = (X_train**2).mean(axis=0)  # the Hessian's diagonal, pixel by pixel, over 2
assert mean_square.max() > 100 * mean_square[~constant].min()
steepest = np.linalg.eigh(X_train.T @ X_train / len(X_train))[1][:, -1]
assert abs(steepest @ mean) / np.linalg.norm(mean) > 0.9  # (almost) along the mean image

# %% [markdown]
# ## 4. The model
#
# A multilayer perceptron with one hidden layer: 64 inputs (the pixels), 64 ReLU neurons,
# and 10 outputs, one score (logit) per digit. The prediction is the digit with the
# largest score, and the loss is the softmax cross-entropy of the scores. Its initial
# weights are uniform in $[-\frac{1}{8}, \frac{1}{8}]$ for 64 inputs (PyTorch's default),
# sized for inputs of about unit size: standardised ones.

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
# ## 5. Training, with every choice made on the validation set
#
# Page 17's loop: one mini-batch of 32 images per step, the training set shuffled afresh
# at each epoch, with Adam. Two things are chosen, both by the validation loss:
#
# - **when to stop**, by *[early stopping](../../reference/glossary/#early-stopping)*:
#   after every epoch we measure the loss and the accuracy on the training and the
#   validation set, inside `no_grad()` (we only look, so no graph is needed), and keep a
#   copy of the parameters of the epoch with the lowest validation loss. After 40 epochs
#   those are put back;
# - **the learning rate**: one run for each of four rates around Adam's default,
#   $10^{-3}$ (the default of `torch.optim.Adam` too), from the same initial weights and
#   the same shuffles. The run whose best validation loss is lowest wins.
#
# The test set is not passed to any of this.


# %%
def evaluate(model, Z, labels):
    """The mean cross-entropy and the fraction of correct predictions on (Z, labels)."""
    with no_grad():
        logits = model(Z)
        loss = cross_entropy(logits, labels).item()
    return loss, float((logits.data.argmax(axis=1) == labels).mean())


def train(model, data, lr, epochs=40, batch_size=32, seed=0):
    """Adam on data["train"], stopped early on data["validation"]; the curves.

    The model ends with the parameters of the epoch of lowest validation loss,
    history["best epoch"] (counted from 1).
    """
    (Z, labels), validation = data["train"], data["validation"]
    rng = np.random.default_rng(seed)
    optimizer = Adam(model.parameters(), lr=lr)
    history = {
        f"{part} {what}": [] for part in ("train", "validation") for what in ("loss", "accuracy")
    }
    best = None
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(Z))  # a fresh shuffle every epoch
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = cross_entropy(model(Z[batch]), labels[batch])
            loss.backward()
            optimizer.step()
        for part, (inputs, targets) in (("train", (Z, labels)), ("validation", validation)):
            loss, accuracy = evaluate(model, inputs, targets)
            history[f"{part} loss"].append(loss)
            history[f"{part} accuracy"].append(accuracy)
        if history["validation loss"][-1] == min(history["validation loss"]):
            best = [p.data.copy() for p in model.parameters()]  # the best epoch so far
            history["best epoch"] = epoch
    model.set_parameters(best)  # early stopping: back to the best epoch
    return history


def choose_and_train(data, seed=0, rates=(3e-4, 1e-3, 3e-3, 1e-2)):
    """One run per learning rate, all from make_model(seed); the rate chosen and the runs."""
    runs = {}
    for lr in rates:
        candidate = make_model(seed)
        runs[lr] = (candidate, train(candidate, data, lr, seed=seed))
    chosen = min(rates, key=lambda lr: min(runs[lr][1]["validation loss"]))
    return chosen, runs


data = {"train": (Z_train, y_train), "validation": (Z_val, y_val)}
start = time.perf_counter()
chosen_lr, runs = choose_and_train(data)
seconds = time.perf_counter() - start
model, history = runs[chosen_lr]
steps = 40 * -(-len(Z_train) // 32)  # 40 epochs of ceil(1077 / 32) = 34 steps
assert steps == 1360
print(f"4 runs of 40 epochs, {steps} steps each, in {seconds:.1f} s")
print("learning rate   best epoch   validation loss   validation accuracy")
for lr, (_, h) in runs.items():
    e = h["best epoch"]
    mark = "   <- chosen" if lr == chosen_lr else ""
    loss, accuracy = h["validation loss"][e - 1], h["validation accuracy"][e - 1]
    print(f"{lr:13g}   {e:10}   {loss:15.4f}   {accuracy:19.1%}{mark}")
best_epoch = history["best epoch"]
# the choice is the lowest validation loss of all runs and epochs, and the model holds it
assert history["validation loss"][best_epoch - 1] == min(
    min(h["validation loss"]) for _, h in runs.values()
)
assert np.isclose(
    evaluate(model, Z_val, y_val)[0], history["validation loss"][best_epoch - 1], rtol=1e-12
)

# %% [markdown]
# And the promised check of standardising: plain SGD at $\eta = 0.1$, 20 epochs, the
# same initial weights and the same batches, on raw and on standardised pixels, scored
# on the validation set. The raw pixels' narrow bowl cannot take that step.


# %%
def sgd_run(inputs, val_inputs, lr=0.1, epochs=20, seed=0):
    """Plain SGD on the training images given as `inputs`; validation loss and accuracy."""
    net, rng = make_model(seed), np.random.default_rng(seed)
    optimizer = SGD(net.parameters(), lr=lr)
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            optimizer.zero_grad()
            cross_entropy(net(inputs[batch]), y_train[batch]).backward()
            optimizer.step()
    return evaluate(net, val_inputs, y_val)


raw, standardised = sgd_run(X_train, X_val), sgd_run(Z_train, Z_val)
for name, (loss, accuracy) in (("raw pixels", raw), ("standardised", standardised)):
    print(f"SGD, lr 0.1, {name:>12}: validation loss {loss:.3f}, accuracy {accuracy:.1%}")
assert standardised[0] < raw[0] / 5 and standardised[1] > raw[1] + 0.3

# %% [markdown]
# ## 6. Loss and accuracy, epoch by epoch
#
# Left, the validation loss of each run: the choice of learning rate. Middle and right,
# the chosen run on the training and the validation set; the dot marks the epoch kept.
# The training loss falls all the way; the validation loss falls with it, then levels
# off far above it: the network does better on the images it learned from than on new
# ones, as is usual, and training on only fits the training set more tightly.

# %%
epochs = np.arange(1, 41)
fig, (choice, left, right) = plt.subplots(1, 3, figsize=(13, 3.6))
for i, (lr, (_, h)) in enumerate(runs.items()):
    style = series_style(i + 2)  # C0 and C1 are the training and validation curves
    width = 2 if lr == chosen_lr else 1
    choice.plot(
        epochs, h["validation loss"], **style, markevery=5, ms=3, lw=width, label=f"lr {lr:g}"
    )
choice.set(
    xlabel="epoch",
    ylabel="cross-entropy",
    yscale="log",
    title="Validation loss, each learning rate",
)
choice.legend(fontsize=8)
for part, colour, style in (("train", "C0", "o-"), ("validation", "C1", "s--")):
    left.plot(epochs, history[f"{part} loss"], style, ms=3, color=colour, label=part)
    right.plot(epochs, history[f"{part} accuracy"], style, ms=3, color=colour, label=part)
left.plot(best_epoch, history["validation loss"][best_epoch - 1], "ko", ms=6, label="kept")
right.plot(best_epoch, history["validation accuracy"][best_epoch - 1], "ko", ms=6, label="kept")
left.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title=f"Loss, lr {chosen_lr:g}")
lowest = min(history["train accuracy"] + history["validation accuracy"])
right.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(lowest - 0.02, 1.005))
left.legend(fontsize=8)
right.legend(fontsize=8)
fig.tight_layout()
display(HTML(plot_html(fig)))
train_curve, val_curve = np.array(history["train loss"]), np.array(history["validation loss"])
assert train_curve[-1] < train_curve[0] / 10  # the training loss falls all the way
assert val_curve[best_epoch - 1] < val_curve[0] / 2
assert val_curve[-1] >= val_curve[best_epoch - 1]  # after the best epoch: no better
assert val_curve[4] - val_curve[9] > 2 * abs(val_curve[29] - val_curve[39])  # levels off
assert np.all(train_curve[4:] < val_curve[4:])  # better on the images it learned from
assert val_curve[-1] > 10 * train_curve[-1]  # far better

# %% [markdown]
# ## 7. The result, on the test set
#
# Every choice is made: the standardisation, the learning rate, the epoch. Now, once,
# the 450 test images, which played no part in any of it. Everything below (the
# accuracy, the confusion matrix, the misread digits) comes from this one pass.

# %%
with no_grad():
    test_logits = model(Z_test)  # the one look at the test set
test_loss = cross_entropy(test_logits, y_test).item()
predicted = test_logits.data.argmax(axis=1)
test_accuracy = float((predicted == y_test).mean())
wrong = np.flatnonzero(predicted != y_test)
print(f"test accuracy: {test_accuracy:.1%} ({len(y_test) - len(wrong)} of {len(y_test)} right)")
print(f"test loss: {test_loss:.3f}")
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
probabilities = test_logits.softmax(axis=1).data[wrong]  # from the same one pass
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
# ## 10. Exercises
#
# Work each one out on paper first, then open its solution; the cell after it checks
# the answer.
#
# ### Exercise 1: predict the first loss
#
# Before any training, what is the mean cross-entropy of `make_model(seed=0)` on the
# training set? Reason from the start: the weights are small, so the ten scores of an
# image are close to each other. What probability does the softmax then give each digit,
# and what is the loss of one image? Then predict whether raw pixels would give a loss
# above or below that.
#
# <details class="success"><summary>Solution</summary>
#
# Scores close together give ten probabilities close to $\frac{1}{10}$, so each image's
# loss, $-\ln$ of its true digit's probability, is close to $-\ln\frac{1}{10} = \ln 10
# \approx 2.303$, and so is the mean. A network that starts far from $\ln 10$ is already
# confidently wrong somewhere: a symptom worth checking on the first step of any run.
# Raw pixels, up to 16, make the first layer's outputs larger and the scores more spread
# out; the softmax is then surer of guesses that are no better than chance, so the first
# loss is higher.
#
# </details>

# %%
fresh = make_model(seed=0)
first_loss = evaluate(fresh, Z_train, y_train)[0]
raw_first_loss, raw_first_accuracy = evaluate(fresh, X_train, y_train)
print(f"first loss {first_loss:.3f}, ln 10 = {np.log(10):.3f}; on raw pixels {raw_first_loss:.3f}")
assert abs(first_loss - np.log(10)) < 0.1
assert raw_first_loss > first_loss + 0.3 and raw_first_accuracy < 0.2  # chance is 0.1

# %% [markdown]
# ### Exercise 2: the last layer's gradient, by hand
#
# Take a batch of $B = 32$ training images. The last layer computes the scores
# $S = H W^\top + b$, where $H$ ($B \times 64$) holds the hidden layer's outputs (after
# the ReLU), $W$ ($10 \times 64$) is the layer's weight and $b$ its bias, and the loss is
# the mean cross-entropy of the rows of $S$. Derive $\frac{\partial L}{\partial S}$,
# $\frac{\partial L}{\partial W}$ and $\frac{\partial L}{\partial b}$ (page 12's softmax
# cross-entropy and page 14's matrix gradients have the pieces), compute them with
# numpy, and compare with the engine's `.grad`.
#
# <details class="success"><summary>Solution</summary>
#
# Row $i$ of $S$ contributes $\frac{1}{B}$ of its own cross-entropy, whose gradient is
# the softmax of the row minus the one-hot row of its label. So
# $\frac{\partial L}{\partial S} = G = \frac{1}{B}(P - Y)$, with $P$ the softmax of each
# row and $Y$ the one-hot labels. For $S = H W^\top + b$, page 14's rule gives
# $\frac{\partial L}{\partial W} = G^\top H$ (shape $10 \times 64$, the weight's own) and
# $\frac{\partial L}{\partial b}$ = the sum of the rows of $G$. Page 22 goes all the way
# down, through every layer, as its last exercise.
#
# </details>

# %%
net = make_model(seed=0)
first, relu, last = net
B = 32
H = relu(first(Z_train[:B]))
scores = last(H)
cross_entropy(scores, y_train[:B]).backward()

S = scores.data
P = np.exp(S - S.max(axis=1, keepdims=True))
P /= P.sum(axis=1, keepdims=True)  # the softmax of each row
Y = np.eye(10)[y_train[:B]]  # one-hot labels
G = (P - Y) / B
dW, db = G.T @ H.data, G.sum(axis=0)
print(
    f"largest |dL/dW| entry {np.abs(dW).max():.4f}, largest difference from the engine "
    f"{np.abs(dW - last.weight.grad).max():.1e}"
)
assert dW.shape == last.weight.shape == (10, 64)
assert np.allclose(dW, last.weight.grad, rtol=1e-12, atol=1e-15)
assert np.allclose(db, last.bias.grad, rtol=1e-12, atol=1e-15)

# %% [markdown]
# ## What next
#
# - The whole network is 4,810 numbers, and every one of them was set by the same
#   backward pass you built on pages 6 and 7, applied to whole arrays as on pages 13 to 16.
# - Try a larger hidden layer or another optimiser, and judge them on the validation
#   set, as here, never on the test set. (Every look at the test set to choose would
#   make its 95% a little less true.)
#
# Next: [the digits classifier in PyTorch](../../tutorial/22-digits-in-pytorch/), this
# notebook's model, loop and evaluation written line for line in PyTorch, and then
# [the whole path](../../tutorial/23-the-whole-path/), a look back over everything from
# the first derivative to this classifier.
