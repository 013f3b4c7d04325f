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
# # Compare models: BERT, DistilBERT, ModernBERT and a TF-IDF baseline
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/agnews-bert/agnews_bert/blob/main/notebooks/02_compare_models.ipynb)
#
# You will fine-tune three encoders on exactly the same data with the same budget (rows, epochs, batch
# size, max length, seed) and put them in one table next to a classic baseline that needs no GPU: TF-IDF
# word weights and logistic regression. The table and the plot show what each model buys you in test
# accuracy and macro-F1, and what it costs in training time, throughput and GPU memory. It takes roughly
# 15 minutes on Colab's free T4 GPU; a model that already finished is read back from Drive, not trained
# again, so after a disconnect just run all cells again.

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

import agnews_bert as ab

SMOKE = ab.colab.smoke_mode()
print(f"agnews_bert {ab.__version__}" + (" in smoke mode: a tiny model on a small offline sample" if SMOKE else ""))

# %%
print(ab.colab.runtime_report())
OUTPUT_DIR = ab.colab.output_dir()

# %% [markdown]
# ## 1. The contestants and the budget
#
# - **BERT-base** (2018): the model that started it all; 110 million parameters, texts up to 512 tokens.
# - **DistilBERT** (2019): BERT shrunk to half its layers by training it to imitate BERT; about 60% faster.
# - **ModernBERT-base** (2024): BERT rebuilt with what was learned since (rotary positions, alternating
#   local and global attention, more and newer training text); 150 million parameters, 8,192 tokens.
#
# A fair comparison changes one thing only. Every model gets the same rows, epochs, batch size, max length
# and seed; only the learning rate follows each family's usual value (ModernBERT 5e-5, BERT 2e-5), since
# one rate is not right for all. One epoch keeps the notebook short.

# %%
MODELS = ["answerdotai/ModernBERT-base", "bert-base-uncased", "distilbert-base-uncased"]
base_config = ab.colab.notebook_config(OUTPUT_DIR, epochs=1)
if SMOKE:  # CI: the tiny offline model, with its own preset, stands in for the three encoders
    MODELS, base_config = ["smoke"], ab.colab.notebook_config(OUTPUT_DIR)
print(f"{len(MODELS)} models; each on {base_config.train_size or 'all'} training rows, "
      f"{base_config.epochs:g} epoch(s), batch size {base_config.batch_size}, max length {base_config.max_length}")

# %% [markdown]
# ## 2. Train them all, and the baseline
#
# Each model is a normal run with its own run folder, so notebook 03 can inspect any of them. The
# baseline turns every text into weights of its words and word pairs (frequent in this text, rare in
# the others = high weight) and fits a logistic regression on them: no word order, no pretraining, a
# few seconds on the CPU. Whatever the encoders score above it is what pretraining buys.

# %%
table = ab.compare_models(MODELS, base_config)
table

# %% [markdown]
# ## 3. The picture
#
# Read the scores and the costs together: a model that is one point better but three times slower may
# not be the one to deploy. Samples per second is training throughput; peak GPU memory decides which
# batch size fits (it is empty on a CPU and for the baseline).

# %%
ab.plot_comparison(table)

# %% [markdown]
# ## 4. Questions to try
#
# - Where do the errors of the best model go? Open notebook 03 on its run folder.
# - Does the ranking hold with 2 epochs, or with 2,000 training rows? Change `base_config` above
#   (for example `ab.colab.notebook_config(OUTPUT_DIR, epochs=2)`) and run again.
# - How many training rows does the baseline need to catch up with the encoders?
