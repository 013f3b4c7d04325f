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
# accuracy and macro-F1, and what it costs in training time, throughput and GPU memory. On Colab's free
# T4 the three runs take about 6 minutes of computing: an **estimate** (`ab.colab.estimated_minutes`:
# model size x tokens / an assumed T4 speed), not a measurement; downloading the three models (about
# 1.3 GB) adds a few minutes. A model that already finished is read back from Drive, not trained again,
# so after a disconnect just run all cells again.

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

import agnews_bert as ab

print(ab.colab.environment_check())  # versions, this runtime, and a warning with its fix for each known problem

# %%
hardware = ab.detect_hardware()
print(ab.colab.runtime_report(hardware))
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
# and seed. On a GPU runtime the learning rate is the exception: each model gets its family's usual value
# (ModernBERT 5e-5, BERT and DistilBERT 2e-5, the values commonly used to fine-tune each family), because
# one rate is not right for all, and a rate that suits one model would handicap another. These usual
# values are not tuned for this data; exercise 2 asks what that costs. One epoch keeps the notebook
# short. Without a GPU the cell below swaps in three small BERTs, which all train at the CPU starting
# config's one rate, and says so. The cell prints the rate each model gets.

# %%
MODELS = ["answerdotai/ModernBERT-base", "bert-base-uncased", "distilbert-base-uncased"]
MODELS, base_config = ab.colab.comparison_plan(MODELS, OUTPUT_DIR, hardware)
print(f"{len(MODELS)} models; each on {base_config.train_size or 'all'} training rows, "
      f"{base_config.epochs:g} epoch(s), batch size {base_config.batch_size}, max length {base_config.max_length}")
print("learning rates:", {model: base_config.with_changes(model=model).learning_rate for model in MODELS})

# %% [markdown]
# ## 2. Train them all, and the baseline
#
# Each model is a normal run with its own run folder, so notebook 03 can inspect any of them. The
# baseline turns every text into weights of its words and word pairs (frequent in this text, rare in
# the others = high weight) and fits a logistic regression on them: no word order, no pretraining, a
# few seconds on the CPU. Whatever the encoders score above it is what pretraining buys.
#
# **What to expect** (an estimate, not measured here: no GPU was available to us). With 12,000 rows and
# one epoch the three encoders should land around 0.90 to 0.93 test accuracy, and the baseline a few
# points below them (it scores about 0.90 on all 120,000 rows, less on 12,000). An encoder near 0.25
# has learned nothing: check its learning rate and its loss in notebook 03's run folder.

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
# ## Exercises
#
# For each one: **predict** first and write it down, then **run**, then **explain** in two or three
# sentences.
#
# **1. How much data does the baseline need?** Predict the baseline's test macro-F1 with a quarter, a half
# and all of the training rows, then run the cell (the baseline fits in seconds). How many rows would it
# need to match the best encoder, and why does pretraining make the encoders need fewer?

# %%
splits = ab.load_agnews(base_config)
for share in (0.25, 0.5, 1.0):
    fewer = splits.copy()
    fewer["train"] = splits["train"].select(range(int(share * len(splits["train"]))))
    print(f"{len(fewer['train']):>6,} training rows: baseline test macro-F1 "
          f"{ab.tfidf_baseline(fewer)['test']['macro_f1']:.3f}")

# %% [markdown]
# **2. One learning rate for all.** Here each model trained at the rate printed under the plan (on a GPU,
# its family's usual rate; on a CPU runtime one rate for all already). If all three trained at
# ModernBERT's 5e-5, which would gain and which would lose? Predict, then run
# `ab.compare_models(MODELS, one_rate_config)` in a new cell (it trains every model once more) and compare
# with the table above. The cell shows each model's rate now and with one rate for all.

# %%
one_rate_config = base_config.with_changes(lr=5e-5)
{model: {"usual rate": base_config.with_changes(model=model).learning_rate,
         "one rate for all": one_rate_config.with_changes(model=model).learning_rate} for model in MODELS}

# %% [markdown]
# **3. The price of a point.** For each encoder: how many points of test macro-F1 above the baseline
# (a point is 0.01), and how many seconds of training did each point cost? Predict which model gives the
# cheapest points, then run. An encoder that does not beat the baseline gets no price, and a sentence
# instead: what would you change to make it earn its training time?

# %%
ab.price_of_a_point(table)

# %% [markdown]
# **4. Does the ranking hold?** Predict whether the order of the models changes with 2 epochs, or with
# 2,000 training rows. Change the `comparison_plan` cell above (for example
# `ab.colab.comparison_plan(MODELS, OUTPUT_DIR, hardware, epochs=2)`) and run the cells again. Where do the
# best model's errors go? Open notebook 03 on its run folder. The cell lists the finished runs.

# %%
ab.runs_view(OUTPUT_DIR)
