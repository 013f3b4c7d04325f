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
# # Compare models and methods: BERT, DistilBERT, ModernBERT, a TF-IDF baseline; full fine-tuning, LoRA, a linear probe
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/agnews-bert/agnews_bert/blob/main/notebooks/02_compare_models.ipynb)
#
# You will fine-tune three encoders on exactly the same data with the same budget (rows, epochs, batch
# size, max length, seed) and put them in one table next to a classic baseline that needs no GPU: TF-IDF
# word weights and logistic regression. The table and the plot show what each model buys you in test
# accuracy and macro-F1, and what it costs in training time, throughput and GPU memory. On Colab's free
# T4 the three runs take about 6 minutes of computing: an **estimate** (`ab.notebook.estimated_minutes`:
# model size x tokens / an assumed T4 speed), not a measurement; downloading the three models (about
# 1.3 GB) adds a few minutes. A model that already finished is read back from Drive, not trained again,
# so after a disconnect just run all cells again. Then you adapt one model three ways (every weight, LoRA
# adapters, a frozen encoder with a trained head) and compare score, trained weights, time and memory:
# two more runs on a T4, about 4 minutes (estimated); on a CPU runtime, three small runs of a few minutes.

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

print(ab.notebook.environment_check())  # versions, this runtime, and a warning with its fix for each known problem

# %%
hardware = ab.detect_hardware()
print(ab.notebook.runtime_report(hardware))
OUTPUT_DIR = ab.notebook.output_dir()

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
MODELS, base_config = ab.notebook.comparison_plan(MODELS, OUTPUT_DIR, hardware)
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
table = ab.notebook.compare_models(MODELS, base_config)
table

# %% [markdown]
# ## 3. The picture
#
# Read the scores and the costs together: a model that is one point better but three times slower may
# not be the one to deploy. Samples per second is training throughput; peak GPU memory decides which
# batch size fits (it is empty on a CPU and for the baseline).

# %%
ab.notebook.plot_comparison(table)

# %% [markdown]
# ## 4. Three ways to adapt one model: full fine-tuning, LoRA, a linear probe
#
# The runs above all used **full fine-tuning**: every weight of the encoder moves. Two cheaper ways are
# common, and the comparison below trains each on one model with the budget above (same rows, epochs,
# batch size, max length and seed):
#
# - **LoRA** (low-rank adaptation): the pretrained weights stay frozen; next to each attention and MLP
#   projection W sits a small trained update B x A of rank r (8 here), scaled by alpha / r. The
#   classification head is trained in full.
# - **Linear probe**: the encoder is frozen and only the classification head on top of it is trained. It is
#   the honest baseline for any fine-tuning: it measures what the pretrained features already know.
#
# Each method trains at its own usual learning rate (the table's `lr` column): full fine-tuning at the model
# family's (ModernBERT 5e-5, BERT 2e-5, Google's compact BERTs 1e-4), LoRA at 5e-4 and the probe at 1e-3 (`compare_methods` passes
# `lr=None`, so `ab.notebook.default_learning_rate(model, method)` decides). Fewer trained weights can take bigger
# steps. The model is the one notebook 01 trains on this runtime: with a GPU, ModernBERT-base, so the
# full run is the one trained above and is read back, not trained again; on a CPU runtime, BERT-mini
# (11 million parameters), so the three runs take a few minutes.
#
# Memory: with a GPU the table shows each run's measured peak (`peak_gpu_memory_gb`). A CPU keeps no peak
# per run (the process's peak only grows from one run to the next), so nothing is measured there; for
# every run the table also gives `weights_and_optimizer_gb`, computed from the parameter counts, not
# measured: 4 bytes per weight, plus 12 per trained weight for its gradient and Adam's two running
# averages. Activations (which grow with the batch size and max length) are not in it.

# %%
METHOD_MODEL = base_config.model  # notebook 01's model on this runtime
print(f"{METHOD_MODEL}: full fine-tuning, LoRA and a linear probe, each on the budget above")
methods = ab.notebook.compare_methods(METHOD_MODEL, base_config)
methods

# %% [markdown]
# **What to expect** (an estimate, not measured here: no GPU was available to us). The trainable share
# says most: full fine-tuning trains 100% of the weights, LoRA with r = 8 about 1 to 2% (the adapters
# plus the head), the probe well under 1% (the head alone). With a GPU and one epoch on 12,000 rows,
# full fine-tuning should land near the top of the table above (0.90 to 0.93 test accuracy), LoRA a
# point or two below it, and the probe clearly lower, somewhere around 0.80 to 0.88. The probe trains
# fastest; LoRA saves less time than its share suggests; the full run needs the most memory. A probe
# near 0.25, or LoRA far below the probe, means something is wrong: look at its loss in notebook 03.
#
# **Measured on a CPU** (the README's table: all-MiniLM-L6-v2, 1,800 real AG News training rows, one
# epoch, on 2 cores of a Xeon, no GPU): full fine-tuning 0.890 test accuracy in 74 s of training, LoRA 0.878
# in 72 s, the probe 0.841 in 27 s. LoRA saved no time at all there, and its peak memory was higher than
# full fine-tuning's: on a small model and a CPU, what it saves (gradients and Adam's averages of the
# frozen weights) is less than what its adapters add. Its saved folder was 2.6 MB instead of 88.
#
# **Why they land there.** Full fine-tuning can reshape every feature the encoder computes for news
# topics, so with enough data it usually scores best, and it pays for that: every weight needs a
# gradient and two Adam averages (16 bytes per weight instead of 4), and a saved run is a whole copy of the
# model. LoRA rests on an observation: the change fine-tuning makes to each weight matrix is close to
# low rank, so a few directions per matrix recover most of the gain. It trains a hundredth of the
# weights, so its optimizer state and its saved adapter are small; but every batch still goes forward
# and backward through the whole frozen encoder, so it saves only part of the time (the frozen weights'
# gradients) and little activation memory. The probe cannot change the features at all: its head can only
# draw straight boundaries through what masked-word pretraining put in the vectors, and that pretraining
# never saw a topic label. What it gets right is what pretraining gave for free; the gap between the probe
# and full fine-tuning is what adapting the encoder buys. It is also the cheapest: nothing flows back
# through the encoder, so a step costs about one forward pass.

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
          f"{ab.notebook.tfidf_baseline(fewer)['test']['macro_f1']:.3f}")

# %% [markdown]
# **2. One learning rate for all.** Here each model trained at the rate printed under the plan (on a GPU,
# its family's usual rate; on a CPU runtime one rate for all already). If all three trained at
# ModernBERT's 5e-5, which would gain and which would lose? Predict, then run
# `ab.notebook.compare_models(MODELS, one_rate_config)` in a new cell (it trains every model once more) and compare
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
ab.notebook.price_of_a_point(table)

# %% [markdown]
# **4. Does the ranking hold?** Predict whether the order of the models changes with 2 epochs, or with
# 2,000 training rows. Change the `comparison_plan` cell above (for example
# `ab.notebook.comparison_plan(MODELS, OUTPUT_DIR, hardware, epochs=2)`) and run the cells again. Where do the
# best model's errors go? Open notebook 03 on its run folder. The cell lists the finished runs.

# %%
ab.notebook.runs_view(OUTPUT_DIR)

# %% [markdown]
# **5. LoRA's rank.** LoRA above trained adapters of rank r = 8. Predict how the trainable parameters and
# the test macro-F1 change at r = 2 and at r = 32 (alpha = 2r each time, so the scale alpha / r stays 2):
# does the score follow the parameter count? Then run
# `ab.notebook.compare_methods(METHOD_MODEL, rank_configs[32], methods=["lora"])` in a new cell (one LoRA run;
# the other methods are not trained again), and the same for r = 2. The cell shows LoRA's row above and
# the two settings.

# %%
rank_configs = {r: base_config.with_changes(lora_r=r, lora_alpha=2 * r) for r in (2, 32)}
print(methods.set_index("method").loc["lora", ["trainable_parameters", "trainable_share", "test_macro_f1"]])
{r: {"lora_r": config.lora_r, "lora_alpha": config.lora_alpha, "scale": config.lora_alpha / config.lora_r}
 for r, config in rank_configs.items()}

# %% [markdown]
# **6. Is the probe only slow to learn?** The probe's features never change, but its head could train for
# longer: an epoch of it costs about a third of a full fine-tuning epoch. Predict whether three epochs of
# the probe reach LoRA's one-epoch score, then run
# `ab.notebook.compare_methods(METHOD_MODEL, base_config.with_changes(epochs=3), methods=["linear-probe"])` in a new
# cell. If it stays below, explain with what the head can and cannot change. The cell shows the estimated
# training minutes for each (an estimate from the model's size, not a measurement) next to the seconds
# the runs above took.

# %%
longer_probe = base_config.with_changes(model=METHOD_MODEL, method="linear-probe", epochs=3)
estimates = {f"{method}, {config.epochs:g} epoch(s)": ab.notebook.estimated_minutes(config, hardware)["train"]
             for method, config in [("lora", base_config.with_changes(model=METHOD_MODEL, method="lora")),
                                    ("linear-probe", longer_probe)]}
print("estimated training minutes:", estimates)
methods[["method", "train_seconds", "test_macro_f1"]]

