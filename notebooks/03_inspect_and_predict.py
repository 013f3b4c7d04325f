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
# class. Nothing is trained here: it takes a minute on a T4, and works on a CPU runtime too.

# %%
# Set-up: on Colab, install the agnews_bert package; anywhere else this cell only imports it.
REPO_URL = "https://github.com/agnews-bert/agnews_bert"  # teachers: point this at your fork
REPO_REF = "main"  # a branch or a tag, e.g. "v1.0"
import subprocess
import sys

if "google.colab" in sys.modules:
    # No --upgrade: Colab's own torch, transformers and ipywidgets stay as they are.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"agnews_bert @ git+{REPO_URL}@{REPO_REF}"],
                   check=True)

import pandas as pd

import agnews_bert as ab

SMOKE = ab.colab.smoke_mode()
print(f"agnews_bert {ab.__version__}" + (" in smoke mode: a tiny model on a small offline sample" if SMOKE else ""))

# %%
OUTPUT_DIR = ab.colab.output_dir()
if SMOKE and ab.runs_table(OUTPUT_DIR).empty:
    ab.train(ab.colab.notebook_config(OUTPUT_DIR))  # CI: make a run to inspect
ab.runs_table(OUTPUT_DIR)

# %% [markdown]
# ## 1. Pick a run
#
# Leave `RUN_NAME` empty to open the run with the best test macro-F1 in the table above, or paste a
# `run_name` from it.

# %%
RUN_NAME = ""
run_dir = ab.colab.find_run(OUTPUT_DIR, RUN_NAME)
results = ab.load_results(run_dir)
test = results["test"]
print(f"{run_dir.name}: {results['model']}, test accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f}")

# %% [markdown]
# ## 2. The confusion matrix
#
# Each row is a true class, each column a predicted one; the diagonal holds the right answers. The
# off-diagonal cells show which topics the model mixes up: in AG News it is usually Business and
# Sci/Tech (a chip maker's earnings are both).

# %%
ab.plot_confusion_matrix(test)

# %%
pd.DataFrame(ab.confused_pairs(test["confusion_matrix"]))

# %% [markdown]
# ## 3. Scores per class
#
# Precision: of the texts the model put in a class, the share that belong there. Recall: of the texts
# of a class, the share the model found. F1 combines the two; macro-F1 is their average over classes.

# %%
ab.plot_per_class(test)

# %%
pd.DataFrame(test["per_class"]).T.loc[list(ab.CLASS_NAMES)]

# %% [markdown]
# ## 4. The most confident mistakes
#
# The test texts the model got wrong while most sure of itself. Read them: some are mislabelled in the
# data, some truly belong to two topics, and some show a real gap in what the model learned.

# %%
pd.DataFrame(test["most_confident_errors"], columns=["text", "true_label", "predicted_label", "probability"])

# %% [markdown]
# ## 5. Try your own headlines
#
# Type a headline and press **Predict**: the bars show the model's probability for each class.

# %%
ab.prediction_widget(run_dir)
