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
# # Fine-tune ModernBERT on AG News
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/agnews-bert/agnews_bert/blob/main/notebooks/01_finetune_modernbert.ipynb)
#
# You will take ModernBERT, a language model pretrained on trillions of words, and fine-tune it to sort
# news texts into four topics: World, Sports, Business and Sci/Tech. Step by step you load the data, turn
# text into tokens, train, score the model once on test data it has never seen, save it to Google Drive,
# and try it on headlines you type. With the default settings (12,000 training rows, 2 epochs) it takes
# roughly 10 minutes on Colab's free T4 GPU. Run the cells from top to bottom (Runtime > Run all works).

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

import transformers

import agnews_bert as ab

SMOKE = ab.colab.smoke_mode()
print(f"agnews_bert {ab.__version__}" + (" in smoke mode: a tiny model on a small offline sample" if SMOKE else ""))

# %% [markdown]
# ## 1. The GPU and the precision
#
# Training a transformer is millions of matrix products, which a GPU does in parallel. Most GPUs are
# faster when they compute in 16-bit numbers instead of 32-bit ones: **mixed precision** does the heavy
# products in 16 bits and keeps the weights and the sums that need accuracy in 32 bits. Newer GPUs
# (A100, L4) have `bf16`, which has the range of 32-bit numbers; the T4 has only `fp16`, whose small
# range the trainer protects by scaling the loss. The package picks the best one for your GPU.

# %%
hardware = ab.detect_hardware()
print(ab.colab.runtime_report(hardware))

# %% [markdown]
# ## 2. Where the run is saved
#
# A Colab runtime forgets everything when it disconnects. So on Colab the run folder (the model, its
# settings and its scores) goes to your Google Drive, in `MyDrive/agnews_bert/<run-name>`; Colab asks
# you to allow access. Anywhere else it goes to a local `runs/` folder.

# %%
OUTPUT_DIR = ab.colab.output_dir()

# %% [markdown]
# ## 3. The settings
#
# Change the settings in the form if you like, then run the next cells; leave it alone and the defaults
# are used. The ones that matter most:
#
# - **learning rate**: how big a step each update takes. Pretrained models need small steps (ModernBERT
#   about 5e-5, BERT 2e-5; the slider resets to the usual value when you change the model); too large
#   and the model forgets what it learned in pretraining.
# - **warm-up**: the first 10% of steps ramp the learning rate up from zero, because the new
#   classification layer starts random and its first gradients are large. Afterwards the rate falls
#   linearly to zero.
# - **epochs**: how many times the model sees every training row.
# - **max length**: texts longer than this many tokens are cut. AG News texts need about 128.
#
# The run folder's name is built from the settings, so two different runs never overwrite each other.

# %%
from agnews_bert.widgets import RunForm

form = RunForm(ab.colab.notebook_config(OUTPUT_DIR), hardware)
form

# %%
config = form.config()
print(config.to_json())

# %% [markdown]
# ## 4. The data: train, validation and test
#
# AG News has 120,000 training texts and 7,600 test texts, 25% per class. We use three splits:
#
# - **train**: the rows the model learns from;
# - **validation**: rows held out *of the training data*, scored after every epoch to pick the best
#   epoch and to compare settings;
# - **test**: scored **once**, at the very end. Every choice made by looking at a score (the epoch, the
#   learning rate) fits the model a little to those rows, so their score becomes optimistic. Keeping
#   test out of all choices keeps its score an honest estimate for new texts.

# %%
splits = ab.load_agnews(config)
summary = ab.describe_splits(splits)
print({name: info["rows"] for name, info in summary.items() if name != "test_origin"})
summary["train"]["per_class"]

# %%
splits["train"].select(range(5)).to_pandas().assign(label=lambda rows: rows["label"].map(ab.ID2LABEL))

# %% [markdown]
# ## 5. Tokens
#
# The model reads numbers, not letters. A **tokenizer** cuts text into pieces from a fixed vocabulary
# (about 50,000 for ModernBERT) and replaces each piece by its number. Common words are one token; rare
# words are split into **subword tokens** ("chipmakers" may become "chip", "makers"), so no word is ever
# unknown. Special tokens mark the start and end of each text.

# %%
tokenizer = ab.load_tokenizer(config.model)
ab.check_max_length(tokenizer, config.max_length, config.model)
tokenizer.tokenize("Chipmakers rally as quarterly earnings beat forecasts")

# %% [markdown]
# Now every split, in batches of 1,000 texts. Texts longer than `max_length` tokens are truncated; the
# summary says how long the texts are and what share was cut.

# %%
tokenized = ab.tokenize_dataset(splits, tokenizer, config.max_length)
ab.token_length_summary(tokenized["train"], config.max_length)

# %% [markdown]
# ## 6. Batches and dynamic padding
#
# A batch is a rectangle of token numbers, so shorter texts are filled up with a padding token (and an
# attention mask tells the model to ignore it). Padding every text to `max_length` would waste most of
# the compute on padding; **dynamic padding** fills each batch only up to its own longest text. The
# trainer also groups texts of similar length into the same batch, so little padding is left. On a GPU
# the length is rounded up to a multiple of 8, which its tensor cores prefer.

# %%
collator = ab.make_collator(tokenizer, pad_to_multiple_of=8 if hardware.device == "cuda" else None)
batch = collator([tokenized["train"][index] for index in range(4)])
print("rows x tokens in this batch:", tuple(batch["input_ids"].shape))
print("tokens per text:", tokenized["train"][:4]["length"])

# %% [markdown]
# ## 7. The metrics: accuracy and macro-F1
#
# **Accuracy** is the share of texts labelled right. **F1** of one class combines its precision (of the
# texts labelled Sports, the share that are Sports) and recall (of the Sports texts, the share labelled
# Sports). **Macro-F1** is the plain average of the four classes' F1, so a model that fails on one class
# scores low even when that class is rare. AG News is balanced, so the two numbers are close here; on
# skewed data they are not. In this toy example five of eight texts are World, and a lazy model always
# says World: its accuracy looks fair, its macro-F1 shows that it knows nothing of three classes.

# %%
true_labels = [0, 0, 0, 0, 0, 1, 2, 3]
always_world = [[1.0, 0.0, 0.0, 0.0]] * len(true_labels)
ab.compute_metrics((always_world, true_labels))

# %% [markdown]
# ## 8. The model and the trainer
#
# `load_model_for` takes the pretrained encoder and puts a new, random layer on top that maps its output
# to four class scores; fine-tuning trains both. Seeding first makes the random layer (and the shuffling)
# the same every time you run with the same seed. The trainer evaluates on validation after every epoch
# and keeps the epoch with the best validation macro-F1.

# %%
transformers.set_seed(config.seed)
model = ab.load_model_for(config, hardware)
run_dir = ab.prepare_run_dir(config)
trainer = ab.build_trainer(config, model, tokenizer, tokenized, run_dir, collator=collator, hardware=hardware)
print(f"{ab.count_parameters(model)['total_millions']} million parameters; run folder {run_dir}")

# %% [markdown]
# ## 9. Train
#
# The table shows the training loss as it falls and, after each epoch, the validation scores. A
# checkpoint is saved after every epoch. If the runtime disconnects, or you stop the cell (the first
# stop saves a checkpoint before it returns), run the cells again: training continues from the last
# checkpoint instead of starting over.

# %%
train_output, resumed_from = ab.train_resumably(trainer, config, run_dir)

# %% [markdown]
# The learning curves: training loss per step, and validation loss and macro-F1 per epoch. A validation
# loss that rises while the training loss keeps falling means the model has started to memorise
# (overfit); the star marks the epoch the trainer keeps.

# %%
ab.plot_learning_curves(trainer.state.log_history)

# %% [markdown]
# ## 10. Score the test split, once
#
# This is the number to report. Rows of the confusion matrix are the true classes, columns the
# predicted ones: everything off the diagonal is a mistake.

# %%
test_report = ab.evaluate_on_test(trainer, tokenized["test"], texts=splits["test"]["text"])
print(f"test accuracy {test_report['accuracy']:.3f}, macro-F1 {test_report['macro_f1']:.3f}")
ab.plot_confusion_matrix(test_report)

# %% [markdown]
# ## 11. Save the run
#
# The run folder gets the fine-tuned model, `config.json` (every setting, to repeat the run) and
# `results.json` (the scores, timings and versions); the runs table gets one row.

# %%
results = ab.collect_results(trainer, config, splits, test_report, train_output, run_dir, resumed_from=resumed_from)
ab.save_run(trainer, run_dir, config, results)
print(f"saved in {run_dir}")

# %% [markdown]
# ## 12. Try it on your own headlines
#
# `predict` loads the saved model from the run folder, the way notebook 03 or another program would.
# Type your own headlines into the list.

# %%
headlines = [
    "Stocks slide as oil prices jump to a record",
    "Late goal sends the home side into the cup final",
    "New chip promises faster phones with longer battery life",
    "Leaders meet to discuss the ceasefire",
]
ab.predict(headlines, run_dir)

# %% [markdown]
# ## 13. All your runs
#
# Every finished run in the output folder, best test macro-F1 first. Change a setting in the form, run
# the notebook again, and compare.

# %%
ab.runs_table(OUTPUT_DIR)
