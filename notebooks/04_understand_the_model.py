# ---
# jupyter:
#   accelerator: GPU
#   colab:
#     gpuType: T4
#     provenance: []
#   jupytext:
#     cell_metadata_filter: -all
#     notebook_metadata_filter: kernelspec,accelerator,colab,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Understand a fine-tuned model: calibration, token attributions and the embedding map
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/agnews-bert/agnews_bert/blob/main/notebooks/04_understand_the_model.ipynb)
#
# Notebook 03 showed *where* your model goes wrong. Here you ask three deeper questions about a run saved
# by notebook 01 or 02: **how far can you trust a probability** it gives (calibration, and temperature
# scaling to repair it), **which words drove a prediction** (Integrated Gradients), and **what did
# fine-tuning do to the model's picture of the texts** (the embedding map, before and after). Nothing is
# trained again. It takes a few minutes on a T4 (an **estimate**: the embedding map runs the test texts
# through two models), longer on a CPU runtime; the embedding map is saved in the run folder, so running
# its cell again is instant.

# %%
# Set-up: on Colab, install the agnews_bert package; anywhere else this cell only imports it.
REPO_URL = "https://github.com/agnews-bert/agnews_bert"  # teachers: point this at your fork
REPO_REF = "main"  # a branch or a tag, e.g. "v1.0"
import subprocess
import sys

if "google.colab" in sys.modules:
    # No --upgrade: Colab's own torch, transformers and ipywidgets stay as they are.
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"agnews_bert @ git+{REPO_URL}@{REPO_REF}"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        print(*(pip.stdout + pip.stderr).strip().splitlines()[-12:], sep="\n")  # pip's own reason
        raise RuntimeError(
            f"pip could not install agnews_bert from {REPO_URL} at {REPO_REF!r}; its last lines are above. "
            "Check that REPO_URL and REPO_REF name a repository and a branch or tag that exist, that the "
            "runtime is online (try again in a minute), and that the repository is public: a private fork "
            "needs an access token in REPO_URL.")

from pathlib import Path

import pandas as pd

import agnews_bert as ab

print(ab.notebook.environment_check())  # versions, this runtime, and a warning with its fix for each known problem

# %%
# Set-up, part 2: captum computes the token attributions of section 4. Colab does not ship it: install it there.
if "google.colab" in sys.modules:
    captum_pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "captum>=0.7"],
                                capture_output=True, text=True)
    if captum_pip.returncode != 0:
        print(*(captum_pip.stdout + captum_pip.stderr).strip().splitlines()[-12:], sep="\n")  # pip's own reason
        raise RuntimeError("pip could not install captum; its last lines are above. Check that the runtime is "
                           "online (try again in a minute), then run this cell again.")

import captum

print(f"captum {captum.__version__}")

# %%
OUTPUT_DIR = ab.notebook.output_dir()
ab.lab.runs_table(OUTPUT_DIR)

# %% [markdown]
# ## 1. Pick a run
#
# Leave `RUN_NAME` empty to open the run with the best test macro-F1 in the table above, or paste a
# `run_name` from it.

# %%
RUN_NAME = ""
runs = ab.lab.runs_table(OUTPUT_DIR)  # every finished run, best test macro-F1 first
if runs.empty:
    raise RuntimeError(f"No finished run in {OUTPUT_DIR} yet: run notebook 01 first (it saves its run there), "
                       "then run this notebook again.")
run_dir = Path(OUTPUT_DIR) / (RUN_NAME or runs["run_name"][0])
results = ab.lab.load_results(run_dir)
calibration = ab.notebook.run_calibration(run_dir)
print(f"{run_dir.name}: {results['model']}, test accuracy {results['test']['accuracy']:.3f}")

# %% [markdown]
# ## 2. How far can you trust a probability?
#
# When the model says "Business, 90%", is it right 9 times out of 10? A model whose confidence matches
# its accuracy is **calibrated**. To check, we sort the test texts into 15 bins by the model's top
# probability (0-6.7%, 6.7-13.3%, ..., 93.3-100%) and compare, in each bin, the share it got right
# with its average confidence. The **reliability diagram** draws one bar per bin: a calibrated model's
# bars reach the dotted diagonal; bars below it mean *over-confident* (more sure than right), above it
# *under-confident*. Two numbers sum it up:
#
# - **ECE** (expected calibration error): the gap between bar and diagonal, averaged over the bins and
#   weighted by how many texts each holds. 0 is perfect.
# - **Brier score**: the squared distance between the probabilities and the true answer (1 for the right
#   class, 0 for the others), averaged over texts. 0 is perfect; always saying 25% for each class gives 0.75.
#
# A healthy fine-tuned model on AG News is right about 90-95% of the time and says so with 95-99%
# confidence: most texts sit in the last bin, and the ECE is a few hundredths.

# %%
ab.notebook.plot_reliability(calibration)

# %% [markdown]
# ## 3. Temperature scaling: one number that repairs the probabilities
#
# Dividing every logit by a number T before the softmax keeps the largest logit the largest, so **no
# prediction changes**, but it softens (T > 1) or sharpens (T < 1) the probabilities. The package fitted
# T on the *validation* split after training, choosing the T that makes the true labels most likely
# (the lowest negative log-likelihood), then scored the *test* split with it: fitting on test would
# flatter the result. The left plot above is before, the right one after.

# %%
scores = pd.DataFrame({when: {name: calibration[when][name] for name in ("accuracy", "ece", "brier", "nll")}
                       for when in ("before", "after")})
scores.loc["temperature"] = [1.0, calibration["temperature"]]
scores

# %%
print(f"fitted temperature T = {calibration['temperature']:.3f} on {calibration['validation_rows']:,} "
      "validation texts")
headline = "Oil prices climb as investors weigh the chip maker's results"
pd.DataFrame({"as trained": ab.predict([headline], run_dir)[0]["probabilities"],
              "calibrated (logits / T)": ab.predict([headline], run_dir, calibrated=True)[0]["probabilities"]})

# %% [markdown]
# ## 4. Which words drove a prediction?
#
# **Integrated Gradients** asks: starting from a "blank" text (every word replaced by the padding token),
# how much did each real word add to a class's score (its logit) as we slide from the blank text to the
# real one? Green words pushed the prediction *towards* the class, red ones *away* from it; the darker,
# the stronger. Hover over a word to see its number. We use `captum`, PyTorch's library for this, on the
# model's input embeddings.
#
# The method checks itself: the words' numbers must **add up** to the class's logit on the real text
# minus its logit on the blank one (*completeness*). The sum is computed in 50 small steps, so it is
# off by a little; we accept a gap of up to 5% of the difference (at least 0.05), and where 50 steps
# miss that, `explain` doubles them (up to 400) until the check passes. The line above the shading says
# how it went.

# %%
attribution = ab.notebook.explain("The striker scored twice as the home side won the cup final", run_dir)
attribution

# %%
pd.DataFrame(attribution.completeness()).T

# %%
pd.DataFrame({name: attribution.top_tokens(name, k=5) for name in ab.CLASS_NAMES})

# %% [markdown]
# The same shading answers the question notebook 03 left open: **why did it say Business?** Below are
# the test texts the model got wrong with the most confidence, each shaded towards the class it wrongly
# chose.

# %%
ab.notebook.explain_mistakes(run_dir, k=5)

# %% [markdown]
# The prediction box of notebook 03 shades your own headlines the same way, under its answer.

# %%
ab.notebook.prediction_widget(run_dir)

# %% [markdown]
# ## 5. The embedding map: what fine-tuning did to the representation
#
# The classifier is one linear layer reading one vector per text, which the encoder produces (the same
# pooled vector the classifier uses). Here are those vectors for up to 2,000 test texts, from the
# *pretrained* encoder before fine-tuning (with the same freshly drawn head training started from) and
# from the *fine-tuned* one, squashed from hundreds of dimensions to 2 for the picture (UMAP where it is
# installed, as on Colab, or PCA), one colour per true class. The **silhouette score** (-1 to 1,
# computed on the full vectors) says how well the classes form separate clusters: near 0 they overlap,
# near 1 each class is its own tight group.

# %%
embedding = ab.notebook.embedding_map(run_dir)
print(f"projection: {embedding['method']}; silhouette before {embedding['before']['silhouette']:.3f}, "
      f"after {embedding['after']['silhouette']:.3f}")
ab.notebook.plot_embedding_map(embedding)

# %% [markdown]
# ## Exercises
#
# For each one: **predict** first and write it down, then **run**, then **explain** in two or three
# sentences.
#
# **1. Which class is over-confident?** Predict the class whose average confidence is furthest above the
# share of its predictions that are right. Run the cell (it reads the test split's numbers saved with the
# run). Is it the class with the lowest precision in notebook 03? Does temperature scaling close the gap
# for every class?

# %%
by_class = pd.DataFrame(calibration["before"]["by_predicted_class"]).T
by_class["over-confidence"] = by_class["confidence"] - by_class["accuracy"]
by_class.join(pd.DataFrame(calibration["after"]["by_predicted_class"]).T[["confidence"]], rsuffix=" after T")

# %% [markdown]
# **2. Find a headline whose attribution surprises you.** Write a headline where you expect one word to
# decide the class (a team's name, a company's). Run it: is the greenest word the one you expected?
# Then find one where a word you think is neutral (a date, "said", a city) carries the most weight, and
# explain what in the training data could have taught the model that.

# %%
my_headline = "Apple shares jump after the company unveils a faster chip"  # replace with your own
surprise = ab.notebook.explain(my_headline, run_dir)
print(surprise.label, surprise.top_tokens(k=3))
surprise

# %% [markdown]
# **3. What does the map of the untrained encoder say about why fine-tuning is needed?** Before running:
# will the pretrained encoder's vectors already group by topic (silhouette above 0.2)? Run the cell and
# look at the left picture again. If the classes overlap there, what would a linear classifier on those
# vectors, without fine-tuning, get right and wrong?

# %%
before, after = embedding["before"]["silhouette"], embedding["after"]["silhouette"]
print(f"silhouette: pretrained {before:.3f} -> fine-tuned {after:.3f} ({embedding['rows']:,} test texts, "
      f"{embedding['method']})")

# %% [markdown]
# **4. How many steps does Integrated Gradients need?** Predict the completeness gap with 2, 10 and 50
# steps (the sum is an integral computed in that many steps; `max_steps=None` stops `explain` from adding
# more). Run the cell. From how many steps on would you trust the shading?

# %%
text = "Stocks fell as oil prices rose"
pd.DataFrame({steps: {name: check["gap"] for name, check in ab.notebook.explain(text, run_dir, n_steps=steps, max_steps=None)
                      .completeness().items()} for steps in (2, 10, 50)})

# %% [markdown]
# **5. Does calibration change a decision?** Take the last of the run's most confident test mistakes
# (the least confident of them) and a headline of your own. Predict: after temperature
# scaling, is any label different? Is the top probability higher or lower? Run, and explain with the
# fitted T.

# %%
mistakes = results["test"]["most_confident_errors"]
texts = [mistake["text"] for mistake in mistakes[-1:]] + ["Government bans exports of rare metals used in chips"]
plain, calibrated = ab.predict(texts, run_dir), ab.predict(texts, run_dir, calibrated=True)
pd.DataFrame({"text": texts, "label": [row["label"] for row in plain],
              "label calibrated": [row["label"] for row in calibrated],
              "top probability": [max(row["probabilities"].values()) for row in plain],
              "calibrated": [max(row["probabilities"].values()) for row in calibrated]})
