"""The command line: `agnews-bert train | evaluate | predict | runs | push`.

Every problem a user can fix prints one line, `agnews-bert: error: ...`, and
exits with status 2; `--debug` shows the traceback instead.

Example:
    $ agnews-bert train --preset smoke
    $ agnews-bert predict runs/smoke_nall_lr3e-03_ep6_seed42 "Stocks fell on Monday"
    $ agnews-bert push runs/smoke_nall_lr3e-03_ep6_seed42 --repo-id your-name/agnews-smoke
"""

import argparse
import json
import re
import sys
from dataclasses import fields, replace

from .config import METHODS, PRESETS, RunConfig
from .errors import AgNewsError, TrainingInterrupted
from .hub import check_hub_names
from .lab.folders import package_version

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's code for a program stopped by Ctrl-C
OWN_DATA_VALIDATION_SHARE = 0.1  # with --data: all rows train, less this stratified share for validation


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv=None) -> int:
    """Entry point of the console script and of `python -m agnews_bert`."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.handler(arguments)
    except TrainingInterrupted as error:
        print(f"agnews-bert: {error}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("agnews-bert: stopped; rerun the same command to continue from the last checkpoint", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AgNewsError as error:
        if arguments.debug:
            raise
        print(f"agnews-bert: error: {in_flags(str(error))}", file=sys.stderr)
        return EXIT_USAGE


# Library errors name keyword arguments, as a notebook user types them; here they become flags.
_SWITCHES = {"overwrite=True": "--overwrite", "resume=False": "--no-resume",
             "trust_remote_code=True": "--trust-remote-code"}
_KEYWORD = re.compile(r"\b(" + "|".join(field.name for field in fields(RunConfig)) + r")=(\.\.\.|'[^']*'|\"[^\"]*\"|[^\s,;)]*)")


def in_flags(message: str) -> str:
    """A library message with its keyword arguments written as this command's flags.

    Example: "pass overwrite=True, or run_name=..." -> "pass --overwrite, or --run-name ..."
    """
    for keyword, switch in _SWITCHES.items():
        message = message.replace(keyword, switch)

    def flag(match):
        value = match.group(2).strip("'\"")
        return f"--{match.group(1).replace('_', '-')} {value}".rstrip()

    return _KEYWORD.sub(flag, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agnews-bert", description="Fine-tune BERT-family encoders on AG News.")
    parser.add_argument("--version", action="version", version=f"agnews-bert {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(commands)
    _add_evaluate(commands)
    _add_predict(commands)
    _add_runs(commands)
    _add_push(commands)
    return parser


def _add_common(command) -> None:
    command.add_argument("--debug", action="store_true", help="show the full traceback on errors")


def _add_train(commands) -> None:
    command = commands.add_parser("train", help="fine-tune a model and score it on the test split")
    command.add_argument("--preset", default="colab", choices=sorted(PRESETS), help="starting settings (default: colab)")
    command.add_argument("--model", help="Hub id or local folder, e.g. answerdotai/ModernBERT-base")
    command.add_argument("--data", help="Hub id, local file or folder, or 'smoke'")
    command.add_argument("--test-data", help="a separate test set (default: the data's test split)")
    command.add_argument("--train-size", type=_size,
                         help="training rows, or a share like 0.1 (default with --data: all rows left after validation)")
    command.add_argument("--validation-size", type=_size, help="validation rows held out of the training data "
                         f"(default with --data: a stratified {OWN_DATA_VALIDATION_SHARE:.0%})")
    command.add_argument("--test-size", type=_size, help="score only this many test rows")
    command.add_argument("--epochs", type=_number(float), help="passes over the training rows")
    command.add_argument("--lr", type=_number(float), help="peak learning rate (default: the model family's)")
    command.add_argument("--batch-size", type=_number(int), help="training rows per step and device")
    command.add_argument("--max-length", type=_number(int), help="tokens kept per text")
    command.add_argument("--seed", type=_number(int), help="random seed for splits, head and shuffling")
    command.add_argument("--method", choices=METHODS, help="what is trained: every weight (full, the default), "
                         "LoRA adapters and the head (lora), or the head on a frozen encoder (linear-probe)")
    command.add_argument("--lora-r", type=_number(int), help="rank of the LoRA adapters (default: 8)")
    command.add_argument("--lora-alpha", type=_number(int), help="LoRA scale, alpha / r (default alpha: 16)")
    command.add_argument("--lora-dropout", type=_number(float), help="dropout on the LoRA adapters' input (default: 0.1)")
    command.add_argument("--early-stopping-patience", type=_number(int),
                         help="stop after this many epochs without a better validation macro-F1 (default: off)")
    command.add_argument("--precision", choices=["auto", "bf16", "fp16", "fp32"])
    command.add_argument("--output-dir", help="folder that holds the run folders (default: runs)")
    command.add_argument("--run-name", help="name of this run's folder (default: built from the settings)")
    command.add_argument("--checkpoint-dir", help="fast local folder for checkpoints, mirrored into the run folder")
    command.add_argument("--trust-remote-code", action="store_true", default=None,
                         help="let a Hub model run its own Python code (off unless you trust its authors)")
    command.add_argument("--overwrite", action="store_true", default=None, help="replace a finished run folder")
    command.add_argument("--no-resume", dest="resume", action="store_false", default=None,
                         help="start over instead of continuing from the last checkpoint")
    _add_common(command)
    command.set_defaults(handler=_train)


def _add_evaluate(commands) -> None:
    command = commands.add_parser("evaluate", help="score a finished run's model on a test set")
    command.add_argument("run_dir", help="a finished run folder")
    command.add_argument("--data", help="test data (default: the data the run was trained on)")
    command.add_argument("--batch-size", type=_number(int), help="rows per batch (default: the run's evaluation batch)")
    command.add_argument("--json", action="store_true", help="print the whole report as JSON instead of a summary")
    _add_common(command)
    command.set_defaults(handler=_evaluate)


def _add_predict(commands) -> None:
    command = commands.add_parser("predict", help="label texts with a finished run's model")
    command.add_argument("run_dir", help="a finished run folder")
    command.add_argument("texts", nargs="*", help="texts to label (default: one per line from --file or stdin)")
    command.add_argument("--file", help="a text file with one text per line")
    command.add_argument("--batch-size", type=_number(int), default=64)
    _add_common(command)
    command.set_defaults(handler=_predict)


def _add_runs(commands) -> None:
    command = commands.add_parser("runs", help="list finished runs, best test macro-F1 first")
    command.add_argument("--output-dir", default="runs")
    _add_common(command)
    command.set_defaults(handler=_runs)


def _add_push(commands) -> None:
    command = commands.add_parser("push", help="upload a finished run's model and model card to the Hugging Face Hub")
    command.add_argument("run_dir", help="a finished run folder")
    command.add_argument("--repo-id", required=True, help="the Hub model repo, e.g. your-name/agnews-bert-minilm "
                         "(created if missing; token from HF_TOKEN, Colab's secrets or `hf auth login`)")
    command.add_argument("--private", action="store_true", default=None, help="create the repo as private")
    _add_common(command)
    command.set_defaults(handler=_push)


def _train(arguments) -> int:
    fields = ("model", "data", "test_data", "train_size", "validation_size", "test_size", "epochs", "lr",
              "batch_size", "max_length", "seed", "method", "lora_r", "lora_alpha", "lora_dropout",
              "early_stopping_patience", "precision", "output_dir", "run_name", "checkpoint_dir",
              "trust_remote_code", "overwrite", "resume")
    config = RunConfig.from_preset(arguments.preset, **{name: getattr(arguments, name) for name in fields})
    if arguments.data is not None:
        config = sized_to_the_file(config, arguments)
    check_hub_names({config.model: "model", config.data: "data set", config.test_data: "data set"})
    from .training import train  # after the config checks: a bad flag is reported without loading torch

    train(config, say=lambda text: print(in_flags(text)))
    return 0


def sized_to_the_file(config: RunConfig, arguments) -> RunConfig:
    """With --data, the sizes the user left out fit the file: every row, less a stratified validation share.

    The presets' sizes (12,000 training rows for the main job) are for AG News itself;
    a smaller file would fail on them one flag at a time.
    Example: --data rows.csv (3,800 rows) -> train_size None (all), validation_size 0.1 (380 rows)
    """
    sizes = {}
    if arguments.train_size is None:
        sizes["train_size"] = None
    if arguments.validation_size is None:
        sizes["validation_size"] = OWN_DATA_VALIDATION_SHARE
    return replace(config, **sizes).validated()


def _evaluate(arguments) -> int:
    from .evaluation import evaluate_run

    report = evaluate_run(arguments.run_dir, data=arguments.data, batch_size=arguments.batch_size)
    print(json.dumps(report, indent=2) if arguments.json else evaluation_summary(report, arguments.run_dir))
    return 0


def evaluation_summary(report: dict, run_dir: str) -> str:
    """A few lines for `agnews-bert evaluate`: the scores, each class's F1, where the rest is.

    Example: "Accuracy 0.988, macro-F1 0.987 on 160 rows of smoke" + per-class F1 + "Everything: ... --json"
    """
    per_class = ", ".join(f"{name} {scores['f1']:.3f}" for name, scores in report["per_class"].items())
    return (f"Accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f} on {report['rows']:,} rows of "
            f"{report['data']}\nF1 per class: {per_class}\n"
            f"Everything (confusion matrix, precision, recall): agnews-bert evaluate {run_dir} --json; "
            f"the report of the training run is in {run_dir}/results.json")


def _predict(arguments) -> int:
    from .prediction import predict

    texts = arguments.texts or _read_lines(arguments.file)
    for row in predict(texts, arguments.run_dir, batch_size=arguments.batch_size):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _push(arguments) -> int:
    from .lab.sharing import push_to_hub  # huggingface_hub only, no torch

    try:
        url = push_to_hub(arguments.run_dir, arguments.repo_id, private=arguments.private)
    except AgNewsError as error:  # push's keyword is not a RunConfig field, so in_flags leaves it: write it here
        raise AgNewsError(str(error).replace("repo_id=", "--repo-id ")) from error
    print(f"Uploaded {arguments.run_dir}/model to {url}")
    return 0


def _runs(arguments) -> int:
    from .notebook.lessons import runs_view

    view = runs_view(arguments.output_dir).frame
    if view.empty:
        print(f"No finished runs in {arguments.output_dir} yet; start one with: agnews-bert train --preset smoke")
        return 0
    formats = {column: "{:.4f}".format for column in view.columns if column.endswith(("_f1", "_accuracy"))}
    width = view["run_name"].str.len().max()
    formats["run_name"] = lambda name: name.ljust(width)  # names line up on the left, as they are read
    print(view.to_string(index=False, formatters=formats, na_rep="-", justify="left"))
    print(f"{len(view)} finished run(s) in {arguments.output_dir}, best test macro-F1 first, with the settings that "
          "differ between them; every column: ab.lab.runs_table(output_dir)")
    return 0


def _read_lines(path: str | None) -> list:
    if path is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise AgNewsError("no texts given: pass them as arguments, with --file, or on standard input")
        return [line.strip() for line in sys.stdin if line.strip()]
    try:
        with open(path, encoding="utf-8") as stream:
            return [line.strip() for line in stream if line.strip()]
    except FileNotFoundError as error:
        raise AgNewsError(f"--file {path} does not exist; check the path") from error
    except UnicodeDecodeError as error:
        raise AgNewsError(f"--file {path} is not UTF-8 text; re-save it as UTF-8") from error
    except OSError as error:
        raise AgNewsError(f"--file {path} cannot be read ({error.strerror}); pass a text file") from error


def _size(text: str):
    """A row count ("2000") or a share ("0.1")."""
    value = _number(float)(text)
    return int(value) if value >= 1 and value.is_integer() else value


def _number(kind):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None

    parse.__name__ = kind.__name__
    return parse
