# %% [markdown]
# # Reading handwritten digits
#
# This notebook is being written.

# %%
print("placeholder")
