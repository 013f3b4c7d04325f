"""The model card of a saved run: `model/README.md`, in the Hub's model-card format.

huggingface_hub's `ModelCardData` and `EvalResult` write the YAML metadata (the
`model-index` with the test accuracy and macro-F1, exactly as results.json holds
them); the text is ours, read from the run's config and results. It is written
for every saved run, before results.json, so a finished run always has its card,
and `push_to_hub` uploads it with the model.

Choices the metadata makes:
- `base_model` is the Hub id the run started from; a local folder and the smoke
  model have none on the Hub, so it is left out and the text names them instead.
- `library_name` is `transformers` for full fine-tuning and the linear probe (the
  folder is a whole transformers model), and `peft` for LoRA: that folder holds
  only the adapter and the head, which peft loads onto the base model, and the Hub
  names the loader from this field (peft writes `peft` into its own cards too).
- `datasets` is always AG News (`fancyzhx/ag_news`): the four labels are its
  classes whatever file the rows came from; the text says where they came from.

Example:
    >>> hub_base_model("answerdotai/ModernBERT-base"), hub_base_model("smoke"), hub_base_model("./ckpt")
    ('answerdotai/ModernBERT-base', None, None)
"""

from pathlib import Path

from ..config import RunConfig
from ..hub import looks_like_a_path
from ..smoke import SMOKE

AG_NEWS = "fancyzhx/ag_news"
CARD_FILE = "README.md"
METHOD_LIBRARIES = {"full": "transformers", "linear-probe": "transformers", "lora": "peft"}


def write_model_card(run_dir: Path, config: RunConfig, results: dict) -> Path:
    """Write `run_dir/model/README.md` from the run's config and results; returns its path."""
    from huggingface_hub import ModelCard

    path = Path(run_dir) / "model" / CARD_FILE
    ModelCard(f"---\n{card_metadata(config, results).to_yaml()}\n---\n\n{card_text(config, results)}").save(path)
    return path


def card_metadata(config: RunConfig, results: dict):
    """The card's YAML metadata: base model, data set, task, library, and the test scores as a model-index.

    The scores are huggingface_hub EvalResults, their values exactly those of results.json.
    Example: smoke run -> datasets [fancyzhx/ag_news], pipeline_tag text-classification, no base_model
    """
    from huggingface_hub import EvalResult, ModelCardData

    test = results["test"]
    common = dict(task_type="text-classification", task_name="Text Classification", dataset_type=AG_NEWS,
                  dataset_name=f"AG News ({data_origin(config)})", dataset_split="test")
    scores = [EvalResult(metric_type="accuracy", metric_name="Test accuracy", metric_value=test["accuracy"], **common),
              EvalResult(metric_type="f1", metric_name="Test macro-F1", metric_value=test["macro_f1"],
                         metric_args={"average": "macro"}, **common)]
    return ModelCardData(
        base_model=hub_base_model(config.model), datasets=[AG_NEWS], pipeline_tag="text-classification",
        library_name=METHOD_LIBRARIES[config.method], language="en",
        tags=["agnews-bert", "text-classification", "ag-news", config.method],
        model_name=results["run_name"], eval_results=scores)


def hub_base_model(model: str) -> str | None:
    """The Hub id a run started from, or None for the smoke model and local folders.

    Example: "answerdotai/ModernBERT-base" -> "answerdotai/ModernBERT-base"; "smoke" -> None; "./ckpt" -> None
    """
    return None if model == SMOKE or looks_like_a_path(model) or Path(model).expanduser().exists() else model


def data_origin(config: RunConfig) -> str:
    """Where the rows came from, in a few words. Example: "smoke" -> "the bundled synthetic smoke sample" """
    named = {SMOKE: "the bundled synthetic smoke sample", AG_NEWS: "the Hub data set"}
    return named.get(config.data) or (
        f"rows from {Path(config.data).name if looks_like_a_path(config.data) else config.data}")


def card_text(config: RunConfig, results: dict) -> str:
    """The card's Markdown text, section by section."""
    sections = [_introduction(config, results), _settings_section(config, results), _method_section(config, results),
                _protocol_section(results), _scores_section(results), _calibration_section(results),
                _early_stopping_section(results), _use_section(config)]
    return "\n\n".join(section for section in sections if section) + "\n"


def _introduction(config: RunConfig, results: dict) -> str:
    start = ("agnews_bert's smoke model (a ModernBERT shrunk to 2 layers of width 64, with random weights)"
             if config.model == SMOKE else f"[{config.model}](https://huggingface.co/{config.model})"
             if hub_base_model(config.model) else f"the local model folder `{Path(config.model).name}`")
    return (f"# {results['run_name']}\n\n"
            f"A news-topic classifier made from {start}, trained with the agnews_bert package to sort an English "
            "news text (its title and description) into one of AG News's four topics: World, Sports, Business "
            "and Sci/Tech.")


def _settings_section(config: RunConfig, results: dict) -> str:
    batch = {"per_device": config.batch_size, "devices": 1,
             "gradient_accumulation_steps": config.gradient_accumulation_steps, **results.get("batch", {})}
    hardware = results.get("hardware", {})
    data = results["data"]
    rows = [("Epochs (planned)", f"{config.epochs:g}"), ("Peak learning rate", f"{config.learning_rate:g}"),
            ("Batch per device", batch["per_device"]), ("Devices", batch["devices"]),
            ("Gradient accumulation steps", batch["gradient_accumulation_steps"]),
            ("Tokens kept per text (max_length)", config.max_length), ("Warm-up share", f"{config.warmup_ratio:g}"),
            ("Weight decay", f"{config.weight_decay:g}"), ("Seed", config.seed),
            ("Precision", hardware.get("precision", config.precision)), ("Hardware", hardware.get("name", "-")),
            ("Training time (seconds)", results.get("timing", {}).get("train_seconds", "-")),
            ("Rows: train / validation / test", f"{data['train']['rows']:,} / {data['validation']['rows']:,} / "
                                                f"{results['test']['rows']:,}"),
            ("Data", f"{config.data} ({data_origin(config)})")]
    return ("## Training settings\n\nFrom the run's config.json and results.json.\n\n"
            + _table(("Setting", "Value"), rows))


def _table(header: tuple, rows) -> str:
    """A Markdown table, one line a row. Example: (("Split", "F1"), [("Test", 0.9)]) -> "| Split | F1 |",
    "| --- | --- |", "| Test | 0.9 |" """
    return "\n".join(f"| {' | '.join(map(str, row))} |" for row in (header, ("---",) * len(header), *rows))


def _method_section(config: RunConfig, results: dict) -> str:
    words = {
        "full": "Full fine-tuning: every weight of the encoder and of the new classification head was trained.",
        "lora": (f"LoRA: the encoder's weights stayed frozen; low-rank adapters of rank r = {config.lora_r}, "
                 f"alpha = {config.lora_alpha} (a scale of alpha / r = {config.lora_alpha / config.lora_r:g}) and "
                 f"dropout {config.lora_dropout:g} on their input were trained on its attention and MLP "
                 "projections, and the classification head was trained in full. This folder holds the adapter "
                 "and the head only; peft loads them onto the base model, which needs to be told of the four "
                 "classes (`peft.AutoPeftModelForSequenceClassification.from_pretrained(folder, num_labels=4)`; "
                 "without num_labels the base model gets a 2-class head and the saved one does not fit)."),
        "linear-probe": ("Linear probe: the encoder stayed frozen and only the classification head was trained, "
                         "so the score measures how well the pretrained features separate the topics."),
    }[config.method]
    return f"## Method: {config.method}\n\n{words}{_trainable_words(results.get('parameters', {}))}"


def _trainable_words(parameters: dict) -> str:
    """Example: {"trainable": 1000, "total": 4000} -> " Trainable parameters: 1,000 of 4,000 (25.00%)." """
    if isinstance(parameters.get("trainable"), int) and parameters.get("total"):
        return (f" Trainable parameters: {parameters['trainable']:,} of {parameters['total']:,} "
                f"({parameters['trainable'] / parameters['total']:.2%}).")
    if parameters.get("total_millions") is not None:
        return f" The model has {parameters['total_millions']} million parameters."
    return ""


def _protocol_section(results: dict) -> str:
    data = results["data"]
    return ("## Validation and test\n\n"
            f"The model was scored on {data['validation']['rows']:,} validation rows, held out of the training "
            "data, after every epoch; the epoch with the best validation macro-F1 is the one kept. The test rows "
            f"({results['test']['rows']:,}, {data.get('test_origin', 'the test split')}) were scored once, with "
            "that model, after training, and chose nothing.")


def _scores_section(results: dict) -> str:
    splits = [("Validation", results.get("validation", {})), ("Test", results["test"])]
    rows = [(name, f"{split['accuracy']:.4f}", f"{split['macro_f1']:.4f}") for name, split in splits
            if split.get("accuracy") is not None and split.get("macro_f1") is not None]
    per_class = [(name, *(f"{scores[key]:.4f}" for key in ("precision", "recall", "f1")), scores["support"])
                 for name, scores in results["test"].get("per_class", {}).items()]
    return (f"## Scores\n\n{_table(('Split', 'Accuracy', 'Macro-F1'), rows)}\n\nPer class, on the test rows:\n\n"
            + _table(("Class", "Precision", "Recall", "F1", "Rows"), per_class))


def _calibration_section(results: dict) -> str:
    calibration = results["test"].get("calibration")
    if not calibration:
        return ""
    before, after = calibration["before"], calibration["after"]
    return ("## Calibration\n\n"
            f"How far the predicted probabilities are from the observed accuracy, on the test rows "
            f"({calibration.get('bins', '-')} bins): expected calibration error {before['ece']:.4f} and Brier score "
            f"{before['brier']:.4f} as trained; {after['ece']:.4f} and {after['brier']:.4f} after temperature "
            f"scaling with T = {calibration['temperature']}, fitted on the {calibration.get('fitted_on', 'validation')}"
            " rows. The saved model gives the probabilities as trained (without T).")


def _early_stopping_section(results: dict) -> str:
    stopping = results.get("early_stopping")
    if not isinstance(stopping, dict):
        return ""
    what = (f"Training stopped at epoch {stopping.get('stopped_at_epoch')} of {stopping.get('epochs_planned')}: "
            f"{stopping.get('reason', 'the validation macro-F1 stopped improving')}." if stopping.get("stopped") else
            f"It did not stop training early: {stopping.get('reason', 'all planned epochs ran')}.")
    return (f"## Early stopping\n\nPatience {stopping.get('patience')} epoch(s) on the validation macro-F1. {what} "
            f"The model kept is that of epoch {stopping.get('best_epoch')}.")


def _use_section(config: RunConfig) -> str:
    smoke = (" This run uses the smoke model, whose weights started random: its scores show that the code works "
             "and say nothing about a real encoder; do not use it to label news.") if config.model == SMOKE else ""
    return ("## Intended use and limitations\n\n"
            "Made for teaching: to compare fine-tuning settings and methods on a small, well-known task. AG News "
            "holds stories of the mid-2000s from many news sources, and the model has no way to say \"none of "
            "these\": a text about anything else still gets one of the four topics, often with high confidence. Its "
            "scores hold for texts like its test rows; newer news, other languages, other sources or longer texts may "
            f"score lower. Texts were cut to {config.max_length} tokens. The training data carry the biases of their "
            "sources; do not use the labels to make decisions about people." + smoke)
