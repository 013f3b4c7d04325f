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
# # Fine-tune ModernBERT on AG News with the Hugging Face Trainer
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/agnews-bert/agnews_bert/blob/main/notebooks/01_finetune_modernbert.ipynb)
#
# You will take ModernBERT, a language model pretrained on trillions of words, and fine-tune it to sort
# news texts into four topics: World, Sports, Business and Sci/Tech. Each step builds one Hugging Face
# object and shows it: the `Dataset` after `map`, the `DataCollatorWithPadding`, the metrics,
# the `TrainingArguments`, the `Trainer`, `trainer.train()` and `trainer.predict()`. The same steps
# fine-tune any encoder on any labelled texts. The run takes about 4 minutes of computing on Colab's free
# T4 GPU with the default settings (12,000 training rows, 2 epochs): an **estimate**, computed by
# `ab.notebook.estimated_minutes` from the model's size, the number of tokens and an assumed T4 speed, not a
# measurement. Installing the package and downloading the model add a few minutes the first time. Run
# the cells from top to bottom (Runtime > Run all works); the exercises at the end take longer.

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

import transformers
from sklearn.metrics import f1_score

# %% [markdown]
# ## 1. The GPU and the precision
#
# Training a transformer is millions of matrix products, which a GPU does in parallel. Most GPUs are
# faster when they compute in 16-bit numbers instead of 32-bit ones: **mixed precision** does the heavy
# products in 16 bits and keeps the weights and the sums that need accuracy in 32 bits. Newer GPUs
# (A100, L4) have `bf16`, which has the range of 32-bit numbers; the T4 has only `fp16`, whose small
# range the trainer protects by scaling the loss. The package picks the best one for your GPU. Without
# a GPU, the form below starts from a small BERT that trains in minutes on the CPU, and this cell says
# how to get a GPU.

# %%
hardware = ab.detect_hardware()
print(ab.notebook.runtime_report(hardware))

# %% [markdown]
# ## 2. Where the run is saved
#
# A Colab runtime forgets everything when it disconnects. So on Colab the run folder (the model, its
# settings and its scores) goes to your Google Drive, in `MyDrive/agnews_bert/<run-name>`; Colab asks
# you to allow access. Anywhere else it goes to a local `runs/` folder.

# %%
OUTPUT_DIR = ab.notebook.output_dir()

# %% [markdown]
# ## 3. The settings
#
# Change the settings in the form if you like, then run the cells below it; leave it alone and the
# defaults are used. The form remembers your last values (also after Run all, or on a new runtime with
# Drive); **back to defaults** forgets them. Under the form: the run folder and an estimate of the run's
# length on this hardware. The settings that matter most:
#
# - **learning rate**: how big a step each update takes. Pretrained models need small steps (ModernBERT
#   usually about 5e-5, BERT 2e-5; the slider resets to the usual value when you change the model, and
#   the small BERT of a CPU runtime starts at 1e-4); too large and the model forgets what it learned in
#   pretraining. The cell under the form prints the rate this run will use.
# - **warm-up share**: the first 10% of the steps ramp the learning rate up from zero. Adam scales each
#   update by running averages of the gradients, and at the start those averages rest on a few noisy
#   gradients, so the first updates are noisy and large; full-size steps then could wreck the pretrained
#   weights. After the warm-up the rate falls linearly to zero.
# - **epochs**: how many times the model sees every training row.
# - **max length**: texts longer than this many tokens are cut. AG News texts need about 128.
#
# The run folder's name is built from every setting that can change the result, so two different runs
# never share a folder. Run the notebook again with the same settings and it loads the finished run
# instead of training again; tick **train again** to replace it.

# %%
form = ab.notebook.settings_form(OUTPUT_DIR, hardware)
form

# %%
config = form.config()
print(config.to_json())

# %% [markdown]
# ## 4. The data: train, validation and test
#
# AG News has 120,000 training texts and 7,600 test texts, 25% per class. We use three splits, each a
# Hugging Face `Dataset` (a table of rows, stored in Arrow format, with `map` and `select`):
#
# - **train**: the rows the model learns from;
# - **validation**: rows held out *of the training data*, scored after every epoch to pick the best
#   epoch and to compare settings;
# - **test**: scored **once**, at the very end. Every choice made by looking at a score (the epoch, the
#   learning rate) fits the model a little to those rows, so their score becomes optimistic. Keeping
#   test out of all choices keeps its score an honest estimate for new texts.
#
# Downloading from the Hugging Face Hub on Colab may print a notice that the secret `HF_TOKEN` does not
# exist. You can ignore it: AG News and the models are public, and a token only raises the Hub's
# download limits.

# %%
splits = ab.load_agnews(config)
splits

# %%
summary = ab.notebook.describe_splits(splits)
print({name: info["rows"] for name, info in summary.items() if name != "test_origin"})
summary["train"]["per_class"]

# %% [markdown]
# Five training rows, whole (read them: would you agree with every label?):

# %%
preview = splits["train"].select(range(5)).to_pandas()
preview["label"] = preview["label"].map(ab.ID2LABEL)
ab.notebook.whole_texts(preview)

# %% [markdown]
# ## 5. Tokens
#
# The model reads numbers, not letters. A **tokenizer** cuts text into pieces from a fixed vocabulary
# (about 50,000 for ModernBERT) and replaces each piece by its number. Common words are one token; rare
# words are split into **subword tokens**, so no word is ever unknown. Two **special tokens** frame every
# text: `[CLS]` at the start and `[SEP]` at the end; `[PAD]` fills up short texts in a batch (section 6).
# BERT's classifier reads the model's output at the `[CLS]` position; ModernBERT-base's averages the
# outputs of all the text's tokens instead (section 9 prints which one your model does).
#
# Subword pieces are marked differently by the two tokenizer families you will meet. BERT's WordPiece
# writes `##` before a piece that continues a word (`chip`, `##makers`). ModernBERT's byte-level BPE
# (the GPT-2 kind) keeps the space instead: a piece that starts a new word begins with `Ġ`, the
# character it uses to write a space (`Chip`, `makers`, `Ġrally`). The first cell shows the tokenizer of
# the model in the form; the second runs only the first step of a byte-level tokenizer, to show `Ġ`
# whatever model you picked.

# %%
tokenizer = ab.load_tokenizer(config.model)
ab.notebook.check_max_length(tokenizer, config.max_length, config.model)
encoded = tokenizer("Chipmakers rally as quarterly earnings beat forecasts")
print("input_ids:", encoded["input_ids"])
print("tokens:   ", tokenizer.convert_ids_to_tokens(encoded["input_ids"]))
print("special tokens of this tokenizer:", tokenizer.all_special_tokens)

# %%
from tokenizers.pre_tokenizers import ByteLevel

[piece for piece, _ in ByteLevel(add_prefix_space=False).pre_tokenize_str("Chipmakers rally as earnings beat forecasts")]

# %% [markdown]
# To tokenize a whole split, `Dataset.map(batched=True)` calls a function on batches of rows (1,000 by
# default) and adds the columns it returns. This is the function, as you would write it for any data
# set: truncate to `max_length`, and do not pad yet. Here it runs on eight rows:

# %%
def tokenize(batch):
    return tokenizer(batch["text"], truncation=True, max_length=config.max_length)


by_hand = splits["train"].select(range(8)).map(tokenize, batched=True)
by_hand

# %% [markdown]
# `ab.tokenize_dataset` does the same `map` on every split, a few times faster (it skips the character
# offsets the tokenizer computes and throws away), drops the text, adds each row's `length` in tokens,
# and keeps the result in memory, so running this cell again takes no time. Same token ids:

# %%
tokenized = ab.tokenize_dataset(splits, tokenizer, config.max_length)
print("same ids as by hand:", tokenized["train"][:8]["input_ids"] == by_hand["input_ids"])
tokenized

# %% [markdown]
# How long the texts are, in tokens, and what share reached `max_length` (cut, or just fitting):

# %%
ab.notebook.token_length_summary(tokenized["train"], config.max_length)

# %% [markdown]
# ## 6. Batches and dynamic padding
#
# A batch is a rectangle of token ids, so shorter texts are filled up with the padding token, and the
# **attention mask** (1 = a real token, 0 = padding) tells the model to ignore it. Padding every text to
# `max_length` would waste most of the compute on padding; `DataCollatorWithPadding` pads each batch only
# up to its own longest text. The trainer also groups texts of similar length into the same batch, so
# little padding is left. On a GPU the length is rounded up to a multiple of 8, which its tensor cores
# prefer. Here the collator pads four rows:

# %%
collator = ab.make_collator(tokenizer, pad_to_multiple_of=8 if hardware.device == "cuda" else None)
print(type(collator).__name__, "| tokens per text:", tokenized["train"][:4]["length"])
batch = collator([tokenized["train"][index] for index in range(4)])
print("input_ids:\n", batch["input_ids"])
print("attention_mask:\n", batch["attention_mask"])

# %% [markdown]
# ## 7. The metrics: accuracy and macro-F1
#
# **Accuracy** is the share of texts labelled right. **F1** of one class combines its precision (of the
# texts labelled Sports, the share that are Sports) and recall (of the Sports texts, the share labelled
# Sports). **Macro-F1** is the plain average of the four classes' F1, so a model that fails on one class
# scores low even when that class is rare.
#
# scikit-learn's `f1_score` computes F1 (Hugging Face's `evaluate.load("f1")` calls it too). The
# course's original notebook asked for F1 with the defaults, and crashed: the default is
# `average="binary"`, the F1 of one "positive" class, which means nothing with four classes.
# `average=None` gives each class's F1, and `average="macro"` their plain mean. Predict what happens, then run:

# %%
true_classes, predicted_classes = [0, 1, 2, 2, 3], [0, 1, 2, 3, 3]
try:
    f1_score(true_classes, predicted_classes)  # average="binary", the default
except ValueError as error:
    print("ValueError:", error)
print("F1 of each class:", f1_score(true_classes, predicted_classes, average=None).round(3))
f1_score(true_classes, predicted_classes, average="macro")

# %% [markdown]
# `ab.compute_metrics` is the function the `Trainer` calls after each evaluation, written the usual way:
# take the logits (one score per class and text), pick the highest (`argmax`), then compute accuracy and
# F1 with `average="macro"`. On AG News the two numbers are close, since the classes are balanced; on
# skewed data they are not. In this toy example five of eight texts are World, and a lazy model always
# says World: its accuracy looks fair, its macro-F1 shows that it knows nothing of three classes.

# %%
true_labels = [0, 0, 0, 0, 0, 1, 2, 3]
always_world = [[1.0, 0.0, 0.0, 0.0]] * len(true_labels)
ab.compute_metrics((always_world, true_labels))

# %% [markdown]
# ## 8. The training arguments
#
# `TrainingArguments` holds every choice about *how* to train. `ab.build_training_args` fills it in from
# your settings; the table shows the fields that decide the run and why each is set so. In short: score
# the validation split and save a checkpoint after every epoch, and at the end go back to the epoch with
# the best validation macro-F1. The run folder is created first (the checkpoints go inside it); if a run
# with exactly these settings has finished before, this cell says so and the run is loaded, not trained.

# %%
run_dir = ab.lab.prepare_run_dir(config)
training_args = ab.build_training_args(config, run_dir, len(tokenized["train"]), hardware)
ab.notebook.training_args_table(training_args)

# %% [markdown]
# ## 9. The model and the `Trainer`
#
# `ab.load_model` loads the pretrained encoder with `AutoModelForSequenceClassification`, which puts a
# new, random layer on top, `classifier`, that maps one vector per text to four class scores; fine-tuning
# trains both. Which vector depends on the model's config: ModernBERT-base's sets
# `classifier_pooling="mean"`, the average of all the text's token outputs, passed through its `head` (a
# dense layer and a norm, pretrained: they come with the checkpoint); BERT reads the `[CLS]` output
# through its pretrained pooler. The cell prints what your model does. transformers then warns that the
# classifier's weights are new. Older versions print "Some weights of ... were not initialized from the
# model checkpoint ... and are newly initialized: ['classifier.bias', 'classifier.weight'] You should
# probably TRAIN this model on a down-stream task"; newer ones print a LOAD REPORT table that lists
# `classifier.weight` and `classifier.bias` as MISSING, "newly initialized". Both are expected: those are
# the new layer's weights, and training them is what comes next. (The tiny offline test model is random
# throughout, so there the list is longer.) Seeding first makes the random layer (and the shuffling) the
# same every time you run with the same seed.
#
# The `Trainer` gets everything built so far: the model, the arguments, the tokenized train and
# validation splits, the collator, the metric function, and the tokenizer (saved next to the model).
# `NonFiniteGuard` is a callback: should the loss stop being a number (fp16 on a T4 can overflow), it
# stops training at once, keeps the last good checkpoint, and prints what to change.

# %%
transformers.set_seed(config.seed)
model = ab.load_model(config, hardware)
trainer = transformers.Trainer(
    model=model,
    args=training_args,
    train_dataset=tokenized["train"],
    eval_dataset=tokenized["validation"],
    data_collator=collator,
    compute_metrics=ab.compute_metrics,
    processing_class=tokenizer,
    callbacks=[ab.lab.NonFiniteGuard()],  # stops at the first nan loss (fp16 can overflow) and says what to do
)
print(f"{ab.notebook.count_parameters(model)['total_millions']} million parameters; run folder {run_dir}")
print("classifier_pooling:", getattr(model.config, "classifier_pooling",
                                     "not in this config: the classifier reads the [CLS] output"))

# %% [markdown]
# ## 10. Train
#
# `trainer.train()` runs the loop: batches, loss, gradients, an optimizer step, and after each epoch the
# validation scores and a checkpoint. The table shows the training loss as it falls. If the runtime
# disconnects, or you stop the cell (the first stop saves a checkpoint before it returns), run the
# cells again: training continues from the last checkpoint instead of starting over. If this run
# finished before with exactly these settings, its saved model and history are loaded instead.

# %%
checkpoint = None
if ab.lab.is_finished(run_dir):
    train_output = ab.lab.load_finished_run(trainer, run_dir)
else:
    checkpoint = ab.lab.resume_checkpoint(config, run_dir)  # None, or the checkpoint to continue from
    with ab.lab.saving_on_stop(trainer, config, run_dir):
        train_output = trainer.train(resume_from_checkpoint=checkpoint)
train_output

# %% [markdown]
# **What a healthy run looks like.** With four classes, a model that guesses evenly has a loss of
# ln 4 = 1.39, so the training loss starts near 1.39 and falls, fast at first; validation macro-F1 rises
# after each epoch. With the default settings (ModernBERT-base, 12,000 rows, 2 epochs) expect a test
# accuracy of about 0.91 to 0.94. That range is an **estimate**, not measured here (no GPU was
# available): published BERT-base results on all 120,000 rows are about 0.95, and this run sees a tenth
# of the data; MiniLM, a much smaller model, reached 0.80 to 0.89 on 1,800 rows in one epoch on our CPU,
# depending on the learning rate (README, Performance). On a CPU runtime the small BERT of the `cpu` preset scores lower.
#
# - a loss that stays at about 1.39 (and accuracy near 0.25) has learned nothing: the learning rate is
#   far too small, or so large that the model predicts one class for everything;
# - a loss of `nan` means the numbers overflowed: lower the learning rate;
# - a validation loss that rises while the training loss keeps falling means the model has started to
#   memorise the training rows (overfitting); the star marks the epoch the trainer keeps.

# %%
ab.notebook.plot_learning_curves(trainer.state.log_history)

# %% [markdown]
# ## 11. Predict and score the test split, once
#
# `trainer.predict()` runs the model on a split without training and returns a `PredictionOutput`: the
# logits, the true labels and the metrics. Here it runs on eight test rows, so you can see its parts
# (eight rows may miss a class, whose F1 then counts as 0, so this sample's macro-F1 means little):

# %%
sample = trainer.predict(tokenized["test"].select(range(8)))
print("logits of the first row:", sample.predictions[0].round(2))
print("predicted:", sample.predictions.argmax(axis=-1), "true:", sample.label_ids)
sample.metrics

# %% [markdown]
# `ab.evaluate_on_test` scores the whole test split the same way: `Trainer.predict`, here on a second
# `Trainer` built only for prediction, whose batches keep the rows in order (the training `Trainer` groups
# evaluation batches by length, which would shuffle predictions against the texts). `predict` and
# `agnews-bert evaluate` score through the same function, so they give the same numbers. It turns the
# output into the numbers to report: accuracy, macro-F1, the scores of each class and the confusion matrix. Rows of the
# matrix are the true classes, columns the predicted ones: everything off the diagonal is a mistake.

# %%
test_report = ab.evaluate_on_test(trainer, tokenized["test"], texts=splits["test"]["text"])
print(f"test accuracy {test_report['accuracy']:.3f}, macro-F1 {test_report['macro_f1']:.3f}")
ab.notebook.plot_confusion_matrix(test_report)

# %% [markdown]
# ## 12. Save the run
#
# The run folder gets the fine-tuned model, `config.json` (every setting, to repeat the run) and
# `results.json` (the scores, timings and versions); the runs table gets one row. A run that was loaded
# in section 10 is already saved, and this cell says so.

# %%
results = ab.lab.collect_results(trainer, config, splits, test_report, train_output, run_dir, resumed_from=checkpoint)
results = ab.lab.save_run(trainer, run_dir, config, results)
sorted(path.name for path in run_dir.iterdir())

# %% [markdown]
# ## 13. Try it on your own headlines
#
# `ab.load_run` loads the saved run from its folder once (its settings, the fine-tuned model and the
# tokenizer), the way notebook 03 or another program would. `predict` takes it (or the folder) and returns
# one dict per text (its label and the probability of each class); `prediction_table` shows the label and
# its probability. Type your own headlines into the list.

# %%
headlines = [
    "Stocks slide as oil prices jump to a record",
    "Late goal sends the home side into the cup final",
    "New chip promises faster phones with longer battery life",
    "Leaders meet to discuss the ceasefire",
]
saved = ab.load_run(run_dir)
ab.notebook.prediction_table(ab.predict(headlines, saved))

# %% [markdown]
# ## 14. All your runs
#
# Every finished run in the output folder, best test macro-F1 first: its name, its scores, and the
# settings in which the runs differ (with one run, its main settings). This is the lab loop: change one
# setting in the form (section 3), run the cells below it again, and compare here. Every setting and
# timing of every run: `ab.lab.runs_table(OUTPUT_DIR)`.

# %%
ab.notebook.runs_view(OUTPUT_DIR)

# %% [markdown]
# ## Exercises
#
# For each one: **predict** the outcome first and write it down, then **run**, then **explain** what you
# see, in two or three sentences. Each has a cell to start from; the ones that train again take as long
# as your first run (the form's estimate).
#
# **1. Learning rates far off.** Set the learning rate in the form to 1e-3 and run the cells from the
# settings down; then the same with 1e-6. Predict each training-loss curve: does it fall, stay near 1.39,
# or jump? Explain with the size of each step compared with the rate the form started from (the cell
# prints it). The cell draws the training loss of every finished run in one plot, one curve per run,
# each labelled by the settings in which it differs from the others.

# %%
print("the form's starting learning rate:", form.base_config.learning_rate)
ab.notebook.plot_training_loss(ab.notebook.loss_histories(OUTPUT_DIR))

# %% [markdown]
# **2. More data or not.** Train with 1,000 and with 12,000 training rows (same epochs). Predict the gap
# in test macro-F1 and in training time. Is ten times the data worth ten times the time? The cell lists
# the runs with their training time.

# %%
ab.notebook.runs_view(OUTPUT_DIR, also=["train_rows", "train_seconds"])

# %% [markdown]
# **3. Short texts.** With `max_length` 32, what share of the training texts will be cut? Predict a
# number from the summary in section 5, then run the cell (it only tokenizes, it does not train). Then
# train with max length 32: how much accuracy do the lost words cost, and how much time is saved?

# %%
short = ab.tokenize_dataset(splits, tokenizer, 32)
ab.notebook.token_length_summary(short["train"], 32)

# %% [markdown]
# **4. A model that always says Sports.** Work out by hand its accuracy and macro-F1 on the balanced test
# split (hint: the F1 of Sports, then the F1 of the three other classes). Then check your numbers with
# the cell. Why is macro-F1 so much lower than accuracy here, while for your trained model they are
# almost equal?

# %%
always_sports = [[0.0, 1.0, 0.0, 0.0]] * len(splits["test"])
ab.compute_metrics((always_sports, splits["test"]["label"]))

# %% [markdown]
# **5. The biggest confusion.** Before running: which two topics will your model mix up most often, and
# in which direction? Run the cell (the largest off-diagonal cells of the confusion matrix), then read a
# few such texts in notebook 03 and explain why they are hard.

# %%
ab.notebook.confused_pairs(test_report["confusion_matrix"])

# %% [markdown]
# **6. No warm-up.** Train two runs at learning rate 1e-4 that differ only in the warm-up share: set the
# learning rate to 1e-4 and train (warm-up share 0.10, the default), then set the warm-up share to 0 and
# train again. Predict how the first logged losses of the two runs differ. The cell puts the first five
# logged training losses of every finished run at 1e-4 side by side, one column per run, and says what
# is missing while you have fewer than two.

# %%
ab.notebook.first_losses(OUTPUT_DIR, lr=1e-4)

# %% [markdown]
# ## Keep your model
#
# On Google Drive the run folder is already safe. If Drive could not be mounted (section 2 said so),
# the run lives only on this runtime and is lost when it disconnects: on Colab this cell zips the run
# folder (the model, `config.json`, `results.json`) and downloads it to your computer. Elsewhere it
# says where the run is kept.

# %%
ab.notebook.download_run(run_dir, OUTPUT_DIR)
