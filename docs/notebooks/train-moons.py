# %% [markdown]
# # Train a network on the two-moons data
#
# Placeholder notebook: being written.

# %%
import numpy as np

assert np.arange(3).sum() == 3
