"""A GPU check in one command: the default job's speed, the precision paths, the GPU's options, MFU.

Every performance claim of the package is about GPUs, and a GPU is lent to a
working session only now and then, for minutes, without the Hugging Face Hub.
This script measures the claims side by side, in one process, sized to fit
8 minutes on one GPU (not yet timed on one), and prints one JSON document
(also written to --out after every part, so a run cut short still leaves
what it measured):

- `machine`: GPU name, compute capability, memory, torch, transformers,
  accelerate, whether `flash_attn` is installed, and the precision and
  attention the package chooses there.
- `default_job`: the seed recipe (seed_recipe.py: fp32, batch 16,
  `map(batch_size=4)`, no length grouping) against `agnews-bert train`'s
  defaults (`RunConfig.from_preset("colab")`: mixed precision, batch 32, length
  grouping), each tokenizing, training 12,000 rows x 2 epochs with validation
  on 2,000 rows after each epoch, and keeping the best epoch (train_speed.py's
  `run_recipe`: for the package, `tokenize_dataset`, `build_trainer`,
  `trainer.train()`). The model is ModernBERT-base's architecture
  (`transformers.ModernBertConfig()`: 22 layers, width 768, a 50,368-token
  vocabulary) with random weights: the Hub cannot be reached, and speed does
  not depend on the weights. Per row: wall seconds, training samples/s and
  tokens/s (real tokens, no padding), peak GPU memory, MFU; `ratios` divides
  package by seed, `speedup` is seed wall seconds / package wall seconds.
- `precision_paths`: the package with fp16 forced (what a T4 gets) and with
  bf16 forced, each for 9,600 rows (0.8 epoch): the logged loss must be finite
  and falling. `t4_estimate` scales the fp16 row by the T4's peak; it is an
  estimate, never a T4 measurement.
- `options`: what else the GPU offers, each trained on the same 9,600 rows as
  a `defaults` row: `larger_batch` (128, with the lr scaled by sqrt(4) = 2),
  `flash_attention_2` (where `flash_attn` is installed), `padding_free`
  (whether transformers' `DataCollatorWithFlattening` gives one prediction per
  text with this classifier, which it must before it can be timed) and
  `torch_compile` (last: compiling takes the longest). `steady_*` figures
  leave out the first half of the steps, where compiling and warm-up happen.
- `prediction`: texts/s of `agnews_bert.prediction` against a plain
  `transformers.pipeline` (one text at a time) on 2,000 texts (predict_speed.py).
- `targets`: package >= 4x the seed, package MFU >= 40%, fp16 and bf16 losses
  finite and falling; null where not measured (no CUDA, or a part skipped).

MFU = 6 x non-embedding parameters x real training tokens / seconds / the
GPU's dense 16-bit peak (common.PEAK_TFLOPS). A part that fails records its
error and the check goes on; once --budget-seconds have passed, the parts not
yet started are skipped with that reason.

Data: synthetic rows in the original AG News CSV format, made offline. Each
text's token count (with [CLS] and [SEP]) is drawn to follow AG News: median
50, mean about 52, 99th percentile about 110, a few cut at max_length 128 (a
lognormal fitted to 3,800 rows of the real test split under a WordPiece
tokenizer, 3% from a longer one for the tail). The words come from the bundled
smoke sample's texts of the row's class, so the classes can be learnt and the
loss falls. The tokenizer is the bundled smoke WordPiece one; the model keeps
ModernBERT-base's 50,368-row embedding all the same.

On this CPU, in under a minute (the smoke-sized ModernBERT, a few steps; the
CUDA-only rows say "skipped: no CUDA ..."):

    python benchmarks/gpu_check.py --tiny --out /tmp/gpu_check.json

On the GPU machine (the device tool's `run`), which has torch, transformers
and accelerate but not `datasets`: first, here, once, fetch the wheels that
image lacks into the git-ignored `.whl/` (dill and multiprocess are missing
there; fsspec and pyarrow are pinned to what datasets 5.2 accepts; evaluate
in case the metrics use it):

    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl \\
        datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 fsspec==2026.9.0 pyarrow==26.0.1 evaluate==0.4.6

then one `run` with carry [".whl"] and timeout_s 600 (the check itself stops
starting parts after 480 s), this command line:

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && PYTHONPATH=/tmp/site:. PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --out $OUT/gpu_check.json
"""

import argparse
import csv
import dataclasses
import gc
import json
import math
import random
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

import common

SIZES = {  # rows; partial_rows is what each precision and option row trains on
    "full": dict(model="modernbert-base", train_rows=12_000, validation_rows=2_000, epochs=2,
                 partial_rows=9_600, predict_texts=2_000),
    "tiny": dict(model="smoke", train_rows=128, validation_rows=32, epochs=1, partial_rows=256, predict_texts=100),
}
MAX_LENGTH = 128
SEED = 42
HELD_OUT_TEST_SHARE = 0.2  # load_agnews holds out this share of a CSV that has no test split
LENGTHS = dict(log_median=3.9, sigma=0.26, tail_share=0.03, tail_log_median=4.5, tail_sigma=0.3, shortest=12)
LARGER_BATCH = 128
T4_FP16_TFLOPS = 65
BUDGET_SECONDS = 480
NO_CUDA = "no CUDA"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--tiny", action="store_true",
                        help="the smoke-sized model and a few steps: checks the script on a CPU in under a minute")
    parser.add_argument("--out", default="gpu_check.json", help="where the JSON goes (default: gpu_check.json)")
    parser.add_argument("--budget-seconds", type=float, default=BUDGET_SECONDS,
                        help=f"start no new part after this many seconds (default: {BUDGET_SECONDS})")
    return parser.parse_args(argv)


# --- synthetic AG-News-length data ---------------------------------------------------------------


def token_length_targets(count: int, rng: random.Random) -> list:
    """Tokens per text, [CLS] and [SEP] included, following AG News's lengths (see LENGTHS).

    Example: (5, random.Random(0)) -> [50, 38, 34, 64, 30]
    """
    lengths = []
    for _ in range(count):
        tail = rng.random() < LENGTHS["tail_share"]
        log_median = LENGTHS["tail_log_median"] if tail else LENGTHS["log_median"]
        sigma = LENGTHS["tail_sigma"] if tail else LENGTHS["sigma"]
        lengths.append(max(LENGTHS["shortest"], round(math.exp(rng.gauss(log_median, sigma)))))
    return lengths


def words_by_class(tokenizer) -> dict:
    """Class (1-4, as text) -> [(word, its token count)] from the smoke sample's texts of that class."""
    with open(common.SMOKE_TRAIN_CSV, newline="", encoding="utf-8") as stream:
        rows = [row for row in csv.reader(stream) if len(row) == 3]
    words = {}
    for label, title, description in rows:
        words.setdefault(label, []).extend(f"{title} {description}".split())
    vocabulary = sorted({word for class_words in words.values() for word in class_words})
    counts = dict(zip(vocabulary, map(len, tokenizer(vocabulary, add_special_tokens=False)["input_ids"])))
    return {label: [(word, counts[word]) for word in class_words] for label, class_words in sorted(words.items())}


def synthetic_row(label: str, words: list, tokens: int, rng: random.Random) -> tuple:
    """(label, title, description) whose text is `tokens` tokens long (a word's pieces may go one over)."""
    chosen, used = [], 2  # [CLS] and [SEP]
    while used < tokens:
        word, count = rng.choice(words)
        chosen.append(word)
        used += count
    title_words = min(8, len(chosen) // 2)
    return label, " ".join(chosen[:title_words]), " ".join(chosen[title_words:])


def write_synthetic_csv(path: Path, rows: int, tokenizer, seed: int = SEED) -> Path:
    """`rows` synthetic rows in the original AG News format, the four classes in turn."""
    rng = random.Random(seed)
    words = words_by_class(tokenizer)
    labels = sorted(words)
    lengths = token_length_targets(rows, rng)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, quoting=csv.QUOTE_ALL)
        for index, tokens in enumerate(lengths):
            label = labels[index % len(labels)]
            writer.writerow(synthetic_row(label, words[label], tokens, rng))
    return path


def length_summary(tokenized_rows) -> dict:
    """Tokens per training row after truncation. Example: {"mean": 52.1, "p50": 50, "p99": 108, ...}"""
    lengths = sorted(len(ids) for ids in tokenized_rows["input_ids"])
    at = lambda share: lengths[min(len(lengths) - 1, int(share * len(lengths)))]  # noqa: E731
    return {"mean": round(sum(lengths) / len(lengths), 1), "p50": at(0.5), "p99": at(0.99), "max": lengths[-1],
            "share_cut_at_max_length": round(sum(n >= MAX_LENGTH for n in lengths) / len(lengths), 4)}


# --- the job every part trains on ----------------------------------------------------------------


def prepare_job(sizes: dict, work_dir: Path) -> dict:
    """Data, tokenizer, tokenized splits and the package's default RunConfig, made once for every part."""
    import agnews_bert as ab
    from agnews_bert.hardware import detect_hardware

    tokenizer = ab.load_tokenizer("smoke")
    pool_rows = math.ceil((sizes["train_rows"] + sizes["validation_rows"]) / (1 - HELD_OUT_TEST_SHARE)) + 8
    data = write_synthetic_csv(work_dir / "synthetic_ag_news.csv", pool_rows, tokenizer)
    config = ab.RunConfig.from_preset("colab", model=model_name_for_config(sizes["model"]), data=str(data),
                                 train_size=sizes["train_rows"], validation_size=sizes["validation_rows"],
                                 epochs=sizes["epochs"], max_length=MAX_LENGTH, seed=SEED,
                                 output_dir=str(work_dir / "runs"))
    splits = ab.load_agnews(config)
    return {**sizes, "work_dir": work_dir, "data": data, "tokenizer": tokenizer, "config": config,
            "hardware": detect_hardware(),
            "tokenized": ab.tokenize_dataset(splits, tokenizer, MAX_LENGTH)}


def model_name_for_config(model: str) -> str:
    """The name RunConfig gets, which sets the family's lr: random ModernBERT-base is ModernBERT (5e-5)."""
    return "answerdotai/ModernBERT-base" if model == "modernbert-base" else model


def settings(job: dict, model) -> dict:
    import agnews_bert as ab

    architecture = model.config
    return {"model": job["model"], "layers": architecture.num_hidden_layers, "hidden_size": architecture.hidden_size,
            "vocab_size": architecture.vocab_size, "parameters": ab.notebook.count_parameters(model),
            "weights": "random (the Hub cannot be reached; speed does not depend on them)",
            "tokenizer": "the bundled smoke WordPiece tokenizer", "data": "synthetic rows of AG News length",
            "train_rows": job["train_rows"], "validation_rows": job["validation_rows"], "epochs": job["epochs"],
            "partial_rows": job["partial_rows"], "max_length": MAX_LENGTH,
            "train_tokens_per_row": length_summary(job["tokenized"]["train"])}


def fresh_model(job: dict, attention: str | None = None):
    """The job's model with the same random weights every time; attention as the package would pick."""
    import transformers

    import train_speed

    transformers.set_seed(0)
    return train_speed.build_model(job["model"], job["tokenizer"], "package", attention)


def fresh_gpu_memory() -> None:
    """Free what earlier parts left on the GPU and restart its peak-memory count."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gpu_memory_gb() -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 3) if torch.cuda.is_available() else None


# --- the parts -----------------------------------------------------------------------------------


def machine_part() -> dict:
    """common.machine() plus the GPU's details and what the package chooses on it."""
    import accelerate
    import torch

    from agnews_bert.hardware import choose_attention, choose_precision, describe_choice, detect_hardware

    hardware = detect_hardware()
    precision = choose_precision("auto", hardware)
    attention = choose_attention("auto", hardware)
    gpu = {}
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        gpu = {"gpu_capability": f"{properties.major}.{properties.minor}",
               "gpu_memory_gb": round(properties.total_memory / 2**30, 1), "cuda": torch.version.cuda}
    peak = common.peak_flops()
    return {**common.machine(), **gpu, "accelerate": accelerate.__version__,
            "flash_attn_installed": hardware.flash_attn_installed, "package_precision": precision,
            "package_attention": attention, "package_choice": describe_choice(hardware, precision, attention),
            "peak_tflops_16bit": peak / 1e12 if peak else None}


def default_job_part(job: dict) -> dict:
    """Seed recipe and package defaults on the whole job, in turn, each with its own peak memory."""
    import train_speed

    arguments = argparse.Namespace(model=job["model"], tokenizer="smoke", data=str(job["data"]),
                                   rows=job["train_rows"], validation_rows=job["validation_rows"],
                                   epochs=job["epochs"], max_length=MAX_LENGTH, seed=SEED)
    rows = {}
    for recipe in train_speed.RECIPES:
        fresh_gpu_memory()
        rows[recipe] = train_speed.run_recipe(arguments, recipe, str(job["work_dir"] / recipe))
    seed, package = rows["seed"], rows["package"]
    speedup = round(seed["wall_seconds"] / package["wall_seconds"], 2)
    return {"seed": seed, "package": package, "ratios": {"speedup": speedup, **common.ratios(seed, package)}}


class TokenCountingCollator:
    """A collator that also counts the real (unpadded) tokens of the batches it builds.

    The data loader builds a batch one step ahead, so at any step the count holds
    one batch more than has trained; a difference of two counts is exact.
    """

    def __init__(self, collator):
        self.collator, self.tokens = collator, 0

    def __call__(self, features):
        self.tokens += sum(len(feature["input_ids"]) for feature in features)
        return self.collator(features)


def steady_clock(halfway_step: int, counter: TokenCountingCollator):
    """A TrainerCallback noting (seconds, tokens) at the halfway step and at the last one."""
    import torch
    import transformers

    class SteadyClock(transformers.TrainerCallback):
        def __init__(self):
            self.marks = []

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step in (halfway_step, state.max_steps):
                if torch.cuda.is_available():
                    torch.cuda.synchronize()  # only here, so the steps in between overlap as usual
                self.marks.append((time.perf_counter(), counter.tokens, state.global_step))

    return SteadyClock()


def partial_run(job: dict, config_changes: dict | None = None, argument_changes: dict | None = None) -> dict:
    """Train the package's defaults, with some changes, on job["partial_rows"] rows: speed and losses.

    config_changes go to RunConfig (precision, batch_size, lr, attention); argument_changes to the
    TrainingArguments the package builds (torch_compile). No evaluation and no checkpoints.
    """
    import transformers

    import agnews_bert as ab
    from agnews_bert.hardware import choose_attention

    config = job["config"].with_changes(**(config_changes or {}))
    steps = max(2, job["partial_rows"] // config.batch_size)
    arguments = ab.build_training_args(config, job["work_dir"] / "partial", len(job["tokenized"]["train"]),
                                       job["hardware"])
    arguments = dataclasses.replace(
        arguments, max_steps=steps, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
        logging_steps=max(1, steps // 10), logging_nan_inf_filter=False,  # the filter would hide a NaN loss
        **(argument_changes or {}))
    fresh_gpu_memory()
    model = fresh_model(job, choose_attention(config.attention, job["hardware"], config.precision))
    counter = TokenCountingCollator(ab.make_collator(job["tokenizer"], pad_to_multiple_of=8
                                                     if job["hardware"].device == "cuda" else None))
    clock = steady_clock(steps // 2, counter)
    trainer = transformers.Trainer(model=model, args=arguments, train_dataset=job["tokenized"]["train"],
                                   data_collator=counter, callbacks=[clock])
    output = trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    row = speed_row(model, arguments, steps, output.metrics["train_runtime"], counter.tokens, clock.marks)
    return {**row, "losses": [round(loss, 4) for loss in losses], **loss_verdict(losses)}


def speed_row(model, arguments, steps: int, seconds: float, tokens: int, marks: list) -> dict:
    """Speed figures of a partial run; steady_* from the halfway step to the last."""
    import agnews_bert as ab

    non_embedding = ab.notebook.count_parameters(model)["non_embedding_millions"] * 1e6
    batch = arguments.per_device_train_batch_size
    (start, start_tokens, start_step), (end, end_tokens, end_step) = marks[0], marks[-1]
    steady_seconds = end - start
    return {
        "precision": "bf16" if arguments.bf16 else "fp16" if arguments.fp16 else "fp32",
        "attention": getattr(model.config, "_attn_implementation", None), "torch_compile": arguments.torch_compile,
        "batch_size": batch, "learning_rate": arguments.learning_rate, "steps": steps, "samples": steps * batch,
        "seconds": round(seconds, 2), "samples_per_second": round(steps * batch / seconds, 1),
        "tokens_per_second": round(tokens / seconds), "mfu": common.mfu(non_embedding, tokens, seconds),
        "steady_samples_per_second": round((end_step - start_step) * batch / steady_seconds, 1)
        if steady_seconds > 0 else None,
        "steady_tokens_per_second": round((end_tokens - start_tokens) / steady_seconds) if steady_seconds > 0 else None,
        "steady_mfu": common.mfu(non_embedding, end_tokens - start_tokens, steady_seconds),
        "peak_memory_gb": peak_gpu_memory_gb(),
    }


def loss_verdict(losses: list) -> dict:
    """Finite: no NaN or inf logged. Falling: the last third's mean is below the first third's.

    Example: [1.4, 1.3, 1.1, 0.9, 0.8, 0.7] -> {"loss_finite": True, "loss_falling": True}
    """
    finite = bool(losses) and all(math.isfinite(loss) for loss in losses)
    if len(losses) < 2 or not finite:
        return {"loss_finite": finite, "loss_falling": None if finite else False}
    third = max(1, len(losses) // 3)
    first, last = sum(losses[:third]) / third, sum(losses[-third:]) / third
    return {"loss_finite": finite, "loss_falling": last < first}


def precision_part(job: dict, precision: str) -> dict:
    """A partial run with fp16 or bf16 forced; fp16 (and bf16 on a GPU without it) needs CUDA."""
    hardware = job["hardware"]
    if precision == "fp16" and hardware.device != "cuda":
        return {"skipped": f"{NO_CUDA}: fp16 mixed precision runs on a CUDA GPU only"}
    if precision == "bf16" and hardware.device == "cuda" and not hardware.has_bf16:
        return {"skipped": f"the {hardware.name} has no bf16 (compute capability below 8.0)"}
    return partial_run(job, {"precision": precision})


def t4_estimate(fp16_row: dict, job: dict) -> dict:
    """The default job's training time on a T4, estimated from the fp16 row at the same MFU (never measured)."""
    peak = common.peak_flops()
    if not peak or "tokens_per_second" not in fp16_row:
        return {"skipped": f"{NO_CUDA} or no fp16 row: the estimate scales a measured fp16 row by peak FLOP/s"}
    tokens_per_second = fp16_row["tokens_per_second"] * T4_FP16_TFLOPS * 1e12 / peak
    tokens = sum(len(ids) for ids in job["tokenized"]["train"]["input_ids"]) * job["epochs"]
    return {"tokens_per_second_at_same_mfu": round(tokens_per_second),
            "default_job_train_seconds_at_same_mfu": round(tokens / tokens_per_second, 1),
            "note": f"this GPU's forced-fp16 tokens/s x {T4_FP16_TFLOPS} / {peak / 1e12:g} TFLOP/s; a T4 usually "
                    "reaches a lower MFU than a big GPU, so read it as a lower bound on the time"}


def larger_batch_part(job: dict) -> dict:
    """Batch 128 instead of 32, lr scaled by the square root of the batch ratio (2x), same rows."""
    default = job["config"]
    scale = math.sqrt(LARGER_BATCH / default.batch_size)
    return partial_run(job, {"batch_size": LARGER_BATCH, "lr": default.learning_rate * scale})


def flash_attention_part(job: dict) -> dict:
    hardware = job["hardware"]
    if hardware.device != "cuda":
        return {"skipped": f"{NO_CUDA}: FlashAttention 2 runs on a CUDA GPU only"}
    if not hardware.flash_attn_installed:
        return {"skipped": "flash_attn is not installed on this machine"}
    return partial_run(job, {"attention": "flash_attention_2"})


def torch_compile_part(job: dict) -> dict:
    if job["hardware"].device != "cuda":
        return {"skipped": f"{NO_CUDA}: compiling takes minutes on a CPU, and its gain is a GPU question"}
    return partial_run(job, argument_changes={"torch_compile": True})


def padding_free_part(job: dict) -> dict:
    """Whether padding-free batches (DataCollatorWithFlattening) give one prediction per text here.

    Flattening packs a batch into one row with position ids restarting at each
    text; a classifier that pools one [CLS] per row then sees one text per batch.
    Only a path that passes this test is worth timing.
    """
    import torch
    import transformers

    rows = job["tokenized"]["train"].select(range(4))
    batch = transformers.DataCollatorWithFlattening()([{"input_ids": ids} for ids in rows["input_ids"]])
    batch.pop("labels", None)  # token labels for language modelling; we only want the logits
    model = fresh_model(job).to(job["hardware"].device).eval()
    try:
        with torch.no_grad():
            logits = model(**{key: value.to(model.device) for key, value in batch.items()}).logits
    except Exception as error:  # an architecture may refuse flattened input outright
        return {"works_for_classification": False, "texts": len(rows), "error": f"{type(error).__name__}: {error}"}
    works = logits.shape[0] == len(rows)
    return {"works_for_classification": works, "texts": len(rows), "prediction_rows": int(logits.shape[0]),
            "timed": False, "reason": "a padding-free batch must give one prediction per text before it is timed"
            if not works else "works here: add a timed row with DataCollatorWithFlattening"}


def prediction_part(job: dict) -> dict:
    """predict_speed.py's comparison on the job's model (random weights), saved with its tokenizer."""
    import predict_speed

    folder = job["work_dir"] / "predict-model"
    fresh_model(job, attention="sdpa").save_pretrained(folder)  # sdpa: the plain pipeline loads it as saved
    job["tokenizer"].save_pretrained(folder)
    texts = common.source_texts(str(job["data"]))[:job["predict_texts"]]
    fresh_gpu_memory()
    plain_seconds, plain_probabilities = predict_speed.time_plain_pipeline(str(folder), texts, MAX_LENGTH)
    package_seconds, package_probabilities = predict_speed.time_package_predict(str(folder), texts, MAX_LENGTH)
    pipeline, package = predict_speed.row(plain_seconds, len(texts)), predict_speed.row(package_seconds, len(texts))
    return {"texts": len(texts), "pipeline": pipeline, "package": package,
            "speedup": round(pipeline["seconds"] / package["seconds"], 2),
            **predict_speed.agreement(plain_probabilities, package_probabilities)}


def targets(result: dict) -> dict:
    """The issue's targets, each true, false, or null where not measured (no CUDA, or a part skipped)."""
    if not result["machine"].get("gpu"):
        return {"note": f"{NO_CUDA}: the targets are about a GPU and are not judged here"}
    job = result.get("default_job", {})
    speedup = job.get("ratios", {}).get("speedup")
    mfu = job.get("package", {}).get("mfu")
    paths = result.get("precision_paths", {})
    finite_and_falling = {precision: (paths[precision]["loss_finite"] and paths[precision]["loss_falling"])
                          if "loss_finite" in paths.get(precision, {}) else None for precision in ("fp16", "bf16")}
    return {"package_at_least_4x_seed": speedup >= 4 if speedup else None,
            "package_mfu_at_least_40_percent": mfu >= 0.4 if mfu else None,
            "fp16_loss_finite_and_falling": finite_and_falling["fp16"],
            "bf16_loss_finite_and_falling": finite_and_falling["bf16"]}


# --- running the parts ---------------------------------------------------------------------------


class Check:
    """The JSON document, filled part by part and written to `out` after each."""

    def __init__(self, out: Path, budget_seconds: float, header: dict):
        self.out, self.budget_seconds, self.started = out, budget_seconds, time.perf_counter()
        self.result = dict(header)

    def part(self, path: tuple, function, *arguments) -> dict:
        """Run one part and store its JSON under `path`; a skip or a failure is recorded, and the check goes on."""
        elapsed = time.perf_counter() - self.started
        if elapsed > self.budget_seconds:
            value = {"skipped": f"time budget: {elapsed:.0f} s of {self.budget_seconds:g} s spent before this part"}
        else:
            try:
                value = function(*arguments)
            except Exception as error:  # one broken part must not lose the others' figures
                value = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc(limit=-4)}
            value.setdefault("part_seconds", round(time.perf_counter() - self.started - elapsed, 1))
        self.put(path, value)
        return value

    def put(self, path: tuple, value) -> None:
        place = self.result
        for key in path[:-1]:
            place = place.setdefault(key, {})
        place[path[-1]] = value
        self.result["seconds"] = round(time.perf_counter() - self.started, 1)
        self.out.write_text(json.dumps(self.result, indent=2))


def run_parts(check: Check, job: dict) -> None:
    """Every part, most important first; torch_compile last, as it takes the longest."""
    check.part(("default_job",), default_job_part, job)
    for precision in ("fp16", "bf16"):
        check.part(("precision_paths", precision), precision_part, job, precision)
    check.put(("precision_paths", "t4_estimate"), t4_estimate(check.result["precision_paths"]["fp16"], job))
    check.part(("prediction",), prediction_part, job)
    check.part(("options", "defaults"), partial_run, job)
    check.part(("options", "larger_batch"), larger_batch_part, job)
    check.part(("options", "flash_attention_2"), flash_attention_part, job)
    check.part(("options", "padding_free"), padding_free_part, job)
    summarise(check)  # written now too, in case compiling outlasts the run's time limit
    check.part(("options", "torch_compile"), torch_compile_part, job)
    summarise(check)


def summarise(check: Check) -> None:
    add_option_ratios(check.result.get("options", {}))
    check.put(("targets",), targets(check.result))


def add_option_ratios(options: dict) -> None:
    """Each timed option's steady samples/s over the defaults row's: above 1 means it wins."""
    base = options.get("defaults", {}).get("steady_samples_per_second")
    for row in options.values():
        if base and row.get("steady_samples_per_second"):
            row["steady_speedup_vs_defaults"] = round(row["steady_samples_per_second"] / base, 3)


def main(argv=None) -> dict:
    arguments = parse_arguments(argv)
    mode = "tiny" if arguments.tiny else "full"
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(shlex.quote(part) for part in ["python", "benchmarks/gpu_check.py", *given])
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    check = Check(out, arguments.budget_seconds, {"check": "gpu_check", "mode": mode, "command": command})
    check.put(("machine",), machine_part())  # always, whatever the budget: every figure needs it
    with tempfile.TemporaryDirectory() as work_dir:
        job = prepare_job(SIZES[mode], Path(work_dir))
        check.put(("settings",), settings(job, fresh_model(job)))
        run_parts(check, job)
    common.print_json(check.result)
    return check.result


if __name__ == "__main__":
    main()
