"""The command line: `agnews-bert train | flags | evaluate | predict | runs | push`.

`train`'s flags are built from `RunConfig`'s fields, as transformers'
`HfArgumentParser` builds them from dataclasses: one flag per field, named
after it (`batch_size` -> `--batch-size`), with the field's help, its type
from the annotation, its choices, `--x/--no-x` for a bool, and `None` for a
field that may be None. Adding a field adds its flag. `flags` prints the
flags that rebuild a saved run's config.json, so a run made in the notebook's
form can be repeated here.

Every problem a user can fix prints one line, `agnews-bert: error: ...`, and
exits with status 2; `--debug` shows the traceback instead. The command runs
inside `errors.flag_style()`, so a message names a setting as its flag (`--lr -1`).

Example:
    $ agnews-bert train --preset smoke
    $ agnews-bert train $(agnews-bert flags runs/smoke_nall_lr3e-03_ep6_seed42)
    $ agnews-bert predict runs/smoke_nall_lr3e-03_ep6_seed42 "Stocks fell on Monday"
"""

import argparse
import contextlib
import json
import shlex
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path

from .config import DATA_VALIDATION_SHARE, PRESETS, RunConfig, field_kinds
from .errors import AgNewsError, TrainingInterrupted, flag_name, flag_style, setting
from .hub import check_hub_names
from .lab.folders import CONFIG_FILE, load_run_config, package_version

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's code for a program stopped by Ctrl-C
FIELD_NAMES = {spec.name for spec in fields(RunConfig)}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv=None) -> int:
    """Entry point of the console script and of `python -m agnews_bert`."""
    arguments = build_parser().parse_args(argv)
    try:
        with flag_style():
            arguments.handler(arguments)  # a handler that returns has done its work: status 0
            return 0
    except (TrainingInterrupted, KeyboardInterrupt) as error:  # a bare Ctrl-C has no message of its own
        message = str(error) or "stopped; rerun the same command to continue from the last checkpoint"
        print(f"agnews-bert: {message}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AgNewsError as error:
        if arguments.debug:
            raise
        print(f"agnews-bert: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agnews-bert", description="Fine-tune BERT-family encoders on AG News.")
    parser.add_argument("--version", action="version", version=f"agnews-bert {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = _command(commands, "train", _train, "fine-tune a model and score it on the test split")
    for spec in sorted(fields(RunConfig), key=lambda spec: spec.name != "preset"):  # --preset first
        train.add_argument(flag_name(spec.name), dest=spec.name, default=argparse.SUPPRESS, **_flag_options(spec))
    flags = _command(commands, "flags", _flags, "print the train flags that repeat a run (from its config.json)")
    flags.add_argument("run", help="a run folder, or its config.json")
    evaluate = _command(commands, "evaluate", _evaluate, "score a finished run's model on a test set")
    evaluate.add_argument("--data", help="test data (default: the data the run was trained on)")
    evaluate.add_argument("--batch-size", type=_parser({int}), help="rows per batch (default: the run's eval batch)")
    evaluate.add_argument("--json", action="store_true", help="print the whole report as JSON instead of a summary")
    predict = _command(commands, "predict", _predict, "label texts with a finished run's model")
    predict.add_argument("texts", nargs="*", help="texts to label (default: one per line from --file or stdin)")
    predict.add_argument("--file", help="a text file with one text per line")
    predict.add_argument("--batch-size", type=_parser({int}), default=64)
    runs = _command(commands, "runs", _runs, "list finished runs, best test macro-F1 first")
    runs.add_argument("--output-dir", default="runs")
    push = _command(commands, "push", _push, "upload a finished run's model and model card to the Hugging Face Hub")
    push.add_argument("--repo-id", required=True, help="the Hub model repo, e.g. your-name/agnews-bert-minilm "
                      "(created if missing; token from HF_TOKEN, Colab's secrets or `hf auth login`)")
    push.add_argument("--private", action="store_true", default=None, help="create the repo as private")
    return parser


def _command(commands, name: str, handler, help: str):
    """A subcommand with --debug; evaluate, predict and push take a finished run folder first."""
    command = commands.add_parser(name, help=help)
    if name in ("evaluate", "predict", "push"):
        command.add_argument("run_dir", help="a finished run folder")
    command.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    command.set_defaults(handler=handler)
    return command


def _flag_options(spec) -> dict:
    """argparse options for one RunConfig field: help, and a type, choices or a --x/--no-x switch."""
    allowed = field_kinds(spec)
    options = {"help": spec.metadata["help"].replace("%", "%%")}  # argparse formats help with %
    if bool in allowed:
        return {**options, "action": argparse.BooleanOptionalAction}
    if type(None) in allowed:
        options["metavar"] = f"{spec.name.upper()}|None"
    return {**options, "type": _parser(allowed), "choices": spec.metadata["choices"] or None}


def config_from_flags(given: dict) -> RunConfig:
    """The RunConfig that `train`'s flags ask for: the preset, with each given flag's value (None included).

    With --data, the sizes the user left out fit the file: every row, less a stratified
    validation share; the presets' sizes (12,000 training rows) are for AG News itself.
    Example: {"preset": "smoke", "data": "rows.csv"} -> train_size None (all), validation_size 0.1
    """
    base = RunConfig.from_preset(given.get("preset", "colab"))
    if given.get("data") is not None:
        given = {"train_size": None, "validation_size": DATA_VALIDATION_SHARE, **given}
    return replace(base, **given).validated()


def flags_for(config: RunConfig) -> list:
    """The `train` flags that rebuild `config`: its preset, and each field that differs from what that gives.

    Example:
        >>> flags_for(replace(RunConfig.from_preset("smoke", epochs=2, overwrite=True), lr=None))
        ['--preset', 'smoke', '--epochs', '2', '--lr', 'None', '--overwrite']
    """
    own_data = {"data": config.data} if config.data != PRESETS[config.preset].data else {}
    base = config_from_flags({"preset": config.preset, **own_data})
    words = ["--preset", config.preset]
    for name, value in {**own_data, **asdict(config)}.items():
        if name in own_data or value != getattr(base, name):
            with flag_style():  # a bool is its switch (--overwrite, --no-resume), anything else two words
                words += setting(name, value).split(" ", 1)
    return words


def _train(arguments) -> None:
    config = config_from_flags({name: value for name, value in vars(arguments).items() if name in FIELD_NAMES})
    check_hub_names({config.model: "model", config.data: "data set", config.test_data: "data set"})
    from .training import train  # after the config checks: a bad flag is reported without loading torch

    train(config)


def _flags(arguments) -> None:
    run = Path(arguments.run)
    print(shlex.join(flags_for(load_run_config(run.parent if run.name == CONFIG_FILE else run))))


def _evaluate(arguments) -> None:
    from .scoring import evaluate_run

    report = evaluate_run(arguments.run_dir, data=arguments.data, batch_size=arguments.batch_size)
    print(json.dumps(report, indent=2) if arguments.json else evaluation_summary(report, arguments.run_dir))


def evaluation_summary(report: dict, run_dir: str) -> str:
    """A few lines for `agnews-bert evaluate`: the scores, each class's F1, where the rest is.

    Example: "Accuracy 0.988, macro-F1 0.987 on 160 rows of smoke" + per-class F1 + "Everything: ... --json"
    """
    per_class = ", ".join(f"{name} {scores['f1']:.3f}" for name, scores in report["per_class"].items())
    return (f"Accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f} on {report['rows']:,} rows of "
            f"{report['data']}\nF1 per class: {per_class}\n"
            f"Everything (confusion matrix, precision, recall): agnews-bert evaluate {run_dir} --json; "
            f"the report of the training run is in {run_dir}/results.json")


def _predict(arguments) -> None:
    from .prediction import predict

    texts = arguments.texts or _read_lines(arguments.file)
    for row in predict(texts, arguments.run_dir, batch_size=arguments.batch_size):
        print(json.dumps(row, ensure_ascii=False))


def _push(arguments) -> None:
    from .lab.sharing import push_to_hub  # huggingface_hub only, no torch

    url = push_to_hub(arguments.run_dir, arguments.repo_id, private=arguments.private)
    print(f"Uploaded {arguments.run_dir}/model to {url}")


def _runs(arguments) -> None:
    from .notebook.lessons import runs_view

    view = runs_view(arguments.output_dir).frame
    if view.empty:
        print(f"No finished runs in {arguments.output_dir} yet; start one with: agnews-bert train --preset smoke")
        return
    formats = {column: "{:.4f}".format for column in view.columns if column.endswith(("_f1", "_accuracy"))}
    width = view["run_name"].str.len().max()
    formats["run_name"] = lambda name: name.ljust(width)  # names line up on the left, as they are read
    print(view.to_string(index=False, formatters=formats, na_rep="-", justify="left"))
    print(f"{len(view)} finished run(s) in {arguments.output_dir}, best test macro-F1 first, with the settings that "
          "differ between them; every column: ab.lab.runs_table(output_dir)")


def _read_lines(path: str | None) -> list:
    if path is None and (sys.stdin is None or sys.stdin.isatty()):
        raise AgNewsError("no texts given: pass them as arguments, with --file, or on standard input")
    try:
        with open(path, encoding="utf-8") if path else contextlib.nullcontext(sys.stdin) as stream:
            return [line.strip() for line in stream if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error.strerror.lower()
        raise AgNewsError(f"{setting('file', path)} cannot be read ({reason}); pass a UTF-8 text file",
                          field="file") from error


def _parser(allowed: set):
    """The argparse type for a field that takes these types: text, a number, a whole number, or a size.

    A size (int or float) is a row count ("2000" -> 2000) or a share ("0.1"); "None", in any
    case, is None where the field allows it. Example: _parser({int})("many") -> error "'many' is not a whole number"
    """
    def parse(text: str):
        if type(None) in allowed and text.lower() == "none":
            return None
        if str in allowed:
            return text
        try:
            value = float(text) if float in allowed else int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'' if float in allowed else 'whole '}number") from None
        return int(value) if int in allowed and value >= 1 and float(value).is_integer() else value

    return parse
