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
# # Inspect a fine-tuned model and try it
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/agnews-bert/agnews_bert/blob/main/notebooks/03_inspect_and_predict.ipynb)
#
# You will open a run saved by notebook 01 or 02 (from Google Drive, or the local `runs/` folder), look
# at where the model goes wrong (the confusion matrix, the scores per class, and the test texts it got
# wrong with the most confidence), and then type your own headlines to see the probability of each
# class. Nothing is trained here, and nothing is scored again: every number comes from the run's saved
# `results.json`, and only your headlines go through the model. It takes about a minute on a T4 or a
# CPU runtime (an estimate: loading the model is most of it).

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
OUTPUT_DIR = ab.notebook.output_dir()
ab.notebook.runs_view(OUTPUT_DIR)

# %% [markdown]
# ## 1. Pick a run
#
# Leave `RUN_NAME` empty to open the run with the best test macro-F1 in the table above (its first row),
# or paste a `run_name` from its first column. The table shows only the settings in which your runs
# differ; the cell below reads `ab.lab.runs_table(OUTPUT_DIR)`, which has every setting of every run, and
# opens the run's folder, `OUTPUT_DIR/<run_name>`.

# %%
RUN_NAME = ""
runs = ab.lab.runs_table(OUTPUT_DIR)  # every finished run, best test macro-F1 first
if runs.empty:
    raise RuntimeError(f"No finished run in {OUTPUT_DIR} yet: run notebook 01 first (it saves its run there), "
                       "then run this notebook again.")
run_dir = Path(OUTPUT_DIR) / (RUN_NAME or runs["run_name"][0])
results = ab.lab.load_results(run_dir)
test = results["test"]
print(f"{run_dir.name}: {results['model']}, test accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f}")

# %% [markdown]
# ## 2. The confusion matrix
#
# Each row is a true class, each column a predicted one; the diagonal holds the right answers. The
# off-diagonal cells show which topics the model mixes up. In AG News the largest is often between
# Business and Sci/Tech (a chip maker's earnings are both), but check your own run: the table under the
# plot lists its most confused pairs.

# %%
ab.notebook.plot_confusion_matrix(test)

# %%
pd.DataFrame(ab.notebook.confused_pairs(test["confusion_matrix"]))

# %% [markdown]
# ## 3. Scores per class
#
# Precision: of the texts the model put in a class, the share that belong there. Recall: of the texts
# of a class, the share the model found. F1 combines the two; macro-F1 is their average over classes.

# %%
ab.notebook.plot_per_class(test)

# %%
pd.DataFrame(test["per_class"]).T.loc[list(ab.CLASS_NAMES)]

# %% [markdown]
# ## 4. The most confident mistakes
#
# The test texts the model got wrong while most sure of itself, whole. Read them: some are mislabelled
# in the data, some truly belong to two topics, and some show a real gap in what the model learned.

# %%
mistakes = pd.DataFrame(test["most_confident_errors"], columns=["text", "true_label", "predicted_label", "probability"])
ab.notebook.whole_texts(mistakes)

# %% [markdown]
# ## 5. Try your own headlines
#
# Type a headline and press **Predict**: the bars show the model's probability for each class.

# %%
ab.notebook.prediction_widget(run_dir)

# %% [markdown]
# ## Exercises
#
# For each one: **predict** first and write it down, then **run**, then **explain** in two or three
# sentences.
#
# **1. Fool the model.** Write three headlines you expect the model to get wrong, each with the label you
# think is right and the label you think the model will give. Run the cell: how many did you fool, and
# what do the fooling ones have in common (two topics at once, a rare word, a name the model cannot know)?

# %%
my_headlines = [
    "Bank profits soar as chip sales beat forecasts",  # replace these three with your own
    "Star striker signs sponsorship deal with phone maker",
    "Government bans exports of rare metals used in batteries",
]
ab.notebook.whole_texts(ab.notebook.prediction_table(ab.predict(my_headlines, run_dir)))

# %% [markdown]
# **2. Is the label wrong, or the model?** For the three most confident mistakes of section 4, decide
# before looking at the model's probabilities: which label would you give each text? Count how many you
# think the data set got wrong. What does that say about the highest accuracy any model can reach here?

# %%
ab.notebook.whole_texts(mistakes.head(3)[["text", "true_label"]])

# %% [markdown]
# **3. The weakest class.** Predict which class has the lowest recall, and to which class its missed
# texts go. Run the cell, then explain from the texts of that class why it is the hardest.

# %%
per_class = pd.DataFrame(test["per_class"]).T
weakest = per_class["recall"].idxmin()
print(f"lowest recall: {weakest} ({per_class.loc[weakest, 'recall']:.3f})")
[pair for pair in ab.notebook.confused_pairs(test["confusion_matrix"], top=12) if pair["true"] == weakest]
