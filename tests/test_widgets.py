"""RunForm: setting the widgets from code changes the RunConfig that notebook 01's next cell reads."""

import math
import warnings
from pathlib import Path

import ipywidgets
import pytest

import agnews_bert as ab
from agnews_bert import _compat
from agnews_bert.hardware import Hardware
from agnews_bert.notebook.widgets import ALL_ROWS, MODEL_CHOICES, RunForm

T4 = Hardware("cuda", "Tesla T4", (7, 5))


@pytest.fixture
def smoke_form():
    return RunForm(ab.RunConfig.from_preset("smoke", output_dir="runs"), Hardware("cpu", "CPU"))


def test_untouched_form_gives_back_the_config_it_was_built_from(smoke_form):
    assert smoke_form.config() == ab.RunConfig.from_preset("smoke", output_dir="runs")
    colab_form = RunForm(ab.RunConfig.from_preset("colab"), T4)
    assert colab_form.config() == ab.RunConfig.from_preset("colab", lr=5e-5)  # the lr the run would use anyway


def test_each_widget_changes_its_field(smoke_form):
    smoke_form.lr.value = 1e-4
    smoke_form.epochs.value = 2.5
    smoke_form.batch_size.value = 16
    smoke_form.max_length.value = 96
    smoke_form.train_size.value = 2_000
    smoke_form.seed.value = 7
    config = smoke_form.config()
    assert (config.lr, config.epochs, config.batch_size, config.max_length, config.train_size, config.seed) == (
        1e-4, 2.5, 16, 96, 2_000, 7)
    assert config.model == "smoke" and config.data == "smoke" and config.validation_size == 64  # the rest is kept


def test_choosing_a_model_sets_its_usual_learning_rate():
    form = RunForm(ab.RunConfig.from_preset("colab"), T4)
    form.model.value = "bert-base-uncased"
    assert form.config().model == "bert-base-uncased"
    assert form.config().lr == pytest.approx(2e-5)
    assert form.config().resolved_run_name.startswith("bert-base-uncased_n12000_lr2e-05_ep2_seed42_")
    form.model.value = "answerdotai/ModernBERT-base"
    assert form.config().lr == pytest.approx(5e-5)


def test_the_method_changes_the_run_folder_and_the_usual_learning_rate():
    form = RunForm(ab.RunConfig.from_preset("colab", output_dir="runs"), T4)
    full_folder = str(ab.lab.folders.run_dir_for(form.config()))
    form.method.value = "linear-probe"
    probe = form.config()
    assert (probe.method, probe.lr) == ("linear-probe", 1e-3)
    assert f"run folder: <code>{ab.lab.folders.run_dir_for(probe)}</code>" in form.summary.value
    assert "modernbert-base_linear-probe_n12000_lr1e-03" in form.summary.value and full_folder not in form.summary.value
    form.method.value = "lora"
    assert (form.config().method, form.config().lr) == ("lora", 5e-4)
    form.model.value = "bert-base-uncased"  # the model's usual rate for the method now chosen
    assert form.config().lr == 5e-4
    form.method.value = "full"
    assert form.config().lr == 2e-5


def test_lora_controls_show_only_for_lora_and_move_the_run_folder_only_then(smoke_form):
    assert smoke_form.lora_controls.layout.display == "none"
    folder = smoke_form.summary.value
    smoke_form.lora_r.value, smoke_form.lora_alpha.value, smoke_form.lora_dropout.value = 16, 32, 0.2
    assert smoke_form.summary.value == folder  # method full: LoRA's settings change nothing, nor the folder
    assert ab.lab.folders.run_dir_for(smoke_form.config()) == ab.lab.folders.run_dir_for(ab.RunConfig.from_preset("smoke", output_dir="runs"))
    smoke_form.method.value = "lora"
    assert smoke_form.lora_controls.layout.display is None  # shown
    config = smoke_form.config()
    assert (config.method, config.lora_r, config.lora_alpha, config.lora_dropout) == ("lora", 16, 32, 0.2)
    lora_folder = smoke_form.summary.value
    smoke_form.lora_r.value = 4
    assert smoke_form.summary.value != lora_folder and "smoke_lora_nall_lr3e-03_ep6_seed42_" in smoke_form.summary.value


def test_early_stopping_off_is_none_and_a_patience_reaches_the_config(smoke_form):
    assert smoke_form.early_stopping_patience.value == 0 and smoke_form.config().early_stopping_patience is None
    before = smoke_form.summary.value
    smoke_form.early_stopping_patience.value = 2
    assert smoke_form.config().early_stopping_patience == 2 and smoke_form.summary.value != before
    smoke_form.early_stopping_patience.value = 0
    assert smoke_form.config().early_stopping_patience is None and smoke_form.summary.value == before
    assert dict(smoke_form.early_stopping_patience.options) == {
        "off": 0, "after 1 epoch without gain": 1, "after 2 epochs without gain": 2, "after 3 epochs without gain": 3}


def test_the_estimate_is_shorter_for_the_methods_that_train_fewer_weights(cpu_runtime):
    form = RunForm(ab.RunConfig.from_preset("cpu", output_dir="runs", train_size=60_000), cpu_runtime)
    minutes = {}
    for method in ab.config.METHODS:
        form.method.value = method
        minutes[method] = ab.notebook.estimated_minutes(form.config(), cpu_runtime)["train"]
    assert minutes["full"] > minutes["lora"] > minutes["linear-probe"] > 0
    assert minutes["linear-probe"] == pytest.approx(minutes["full"] / 3, abs=0.1)  # forward only: 2 of 6


def test_all_rows_means_no_train_size_limit():
    form = RunForm(ab.RunConfig.from_preset("colab"), T4)
    assert form.train_size.value == 12_000
    form.train_size.value = ALL_ROWS
    assert form.config().train_size is None
    assert form.train_size.options[-1] == ("all", ALL_ROWS)


def test_precision_is_shown_as_detected_not_chosen():
    form = RunForm(ab.RunConfig.from_preset("colab"), T4)
    assert form.precision() == "fp16"
    assert "precision: <b>fp16</b> (detected for Tesla T4)" in form.summary.value
    assert "precision" not in {control.description for control in form.inputs}


def test_summary_shows_the_run_folder_and_follows_the_widgets(smoke_form):
    assert "runs/smoke_nall_lr3e-03_ep6_seed42" in smoke_form.summary.value
    smoke_form.seed.value = 3
    assert "runs/smoke_nall_lr3e-03_ep6_seed3" in smoke_form.summary.value


def test_an_invalid_value_is_explained_under_the_form_and_raised_by_config(smoke_form):
    smoke_form.seed.value = -1
    assert "not a valid run" in smoke_form.summary.value and "seed=-1 is out of range" in smoke_form.summary.value
    with pytest.raises(ab.AgNewsError, match="seed=-1 is out of range"):
        smoke_form.config()


def test_a_model_or_size_outside_the_lists_is_offered_too():
    form = RunForm(ab.RunConfig.from_preset("cpu", model="./my-checkpoint", train_size=1_500), T4)
    assert form.model.options[0] == ("./my-checkpoint", "./my-checkpoint")
    assert ("1,500", 1_500) in form.train_size.options
    assert form.config().model == "./my-checkpoint" and form.config().train_size == 1_500


def test_the_form_is_a_core_widget_and_builds_without_deprecation_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=DeprecationWarning, module="agnews_bert")  # ours, not ipywidgets 7's
        form = RunForm(ab.RunConfig.from_preset("smoke"), T4)
    import ipywidgets

    assert isinstance(form, ipywidgets.VBox)
    assert {type(control).__name__ for control in form.inputs} <= {
        "Checkbox", "Dropdown", "SelectionSlider", "IntText"}


@pytest.mark.parametrize("major, keyword", [(7, "description_tooltip"), (8, "tooltip")])
def test_tooltips_use_the_keyword_of_the_installed_ipywidgets(monkeypatch, major, keyword):
    monkeypatch.setattr(_compat, "ipywidgets_major_version", lambda: major)
    assert _compat.tooltip_kwargs("Rows") == {keyword: "Rows"}


def test_summary_warns_when_these_settings_were_already_trained(smoke_run):
    output_dir = str(Path(smoke_run["run_dir"]).parent)
    form = RunForm(ab.RunConfig.from_preset("smoke", output_dir=output_dir), Hardware("cpu", "CPU"))
    assert "already trained</b> with these settings: the cells below load it" in form.summary.value
    form.seed.value = 43
    assert "already trained" not in form.summary.value
    overwriting = RunForm(ab.RunConfig.from_preset("smoke", output_dir=output_dir, overwrite=True), Hardware("cpu", "CPU"))
    assert "it will be trained again and replaced" in overwriting.summary.value


@pytest.fixture
def cpu_runtime(monkeypatch):
    """Smoke mode off (notebooks/conftest.py turns it on for the session) and no GPU."""
    from agnews_bert.notebook import colab

    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    return Hardware("cpu", "CPU")


def test_rebuilding_the_form_keeps_the_students_values_until_reset(tmp_path, cpu_runtime):
    form = ab.notebook.settings_form(str(tmp_path), cpu_runtime)
    assert form.config().preset == "cpu"  # no GPU: the CPU-sized default
    form.batch_size.value = 16
    form.max_length.value = 96
    form.warmup_ratio.value = 0.2
    form.overwrite.value = True
    form.method.value = "lora"
    form.lora_r.value = 4
    form.early_stopping_patience.value = 2
    again = ab.notebook.settings_form(str(tmp_path), cpu_runtime)  # the form cell run again, or Run all
    config = again.config()
    assert (config.batch_size, config.max_length, config.warmup_ratio, config.overwrite) == (16, 96, 0.2, True)
    assert (config.method, config.lora_r, config.early_stopping_patience, config.lr) == ("lora", 4, 2, 5e-4)
    assert again.lora_controls.layout.display is None
    again.reset_to_defaults()
    assert again.config() == ab.RunConfig.from_preset("cpu", output_dir=str(tmp_path))
    assert ab.notebook.settings_form(str(tmp_path), cpu_runtime).config() == again.config()  # the reset is remembered too


def test_a_damaged_settings_file_gives_the_defaults(tmp_path, cpu_runtime):
    from agnews_bert.notebook.widgets import SETTINGS_FILE

    (tmp_path / SETTINGS_FILE).write_text('{"batch_size": "sixteen", "lr": ', encoding="utf-8")
    assert ab.notebook.settings_form(str(tmp_path), cpu_runtime).config() == ab.RunConfig.from_preset("cpu", output_dir=str(tmp_path))
    (tmp_path / SETTINGS_FILE).write_text('{"batch_size": 0}', encoding="utf-8")  # valid JSON, invalid setting
    assert ab.notebook.settings_form(str(tmp_path), cpu_runtime).config().batch_size == 32


def test_the_form_shows_the_estimate_and_warns_before_a_long_run(tmp_path, cpu_runtime):
    form = ab.notebook.settings_form(str(tmp_path), cpu_runtime)
    assert "estimated time on CPU: about" in form.summary.value and "over 30 minutes" not in form.summary.value
    form.model.value = "answerdotai/ModernBERT-base"  # the GPU settings stay one click away
    assert "over 30 minutes" in form.summary.value


def test_on_drive_the_form_says_where_checkpoints_go(monkeypatch):
    from agnews_bert.notebook import colab, widgets

    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    form = RunForm(widgets.notebook_config(colab.DRIVE_RUNS_DIR, hardware=T4), T4)
    assert form.settings_file is None  # without remember=True nothing is written (not to /content here)
    assert "checkpoints: kept on this runtime only" in form.summary.value
    form.train_size.value = ALL_ROWS
    form.epochs.value = 4
    assert form.config().mirror_checkpoints
    assert "checkpoints: copied to Drive after each epoch" in form.summary.value


# --- what the browser sends back ------------------------------------------------------------------------


def front_end_value(control):
    """The value a slider holds once the browser has drawn it: the nearest point of its grid.

    A SelectionSlider's grid is its options (the page sends back an index); a float or int slider's is
    min + k * step, on the exponent for a FloatLogSlider, as the page's noUiSlider snaps it.
    """
    if isinstance(control, ipywidgets.SelectionSlider):
        return control.options[control.index][1]
    if isinstance(control, ipywidgets.FloatLogSlider):
        steps = round((math.log(control.value, control.base) - control.min) / control.step)
        return control.base ** (control.min + steps * control.step)
    steps = round((control.value - control.min) / control.step)
    return type(control.value)(control.min + steps * control.step)


def sliders(form):
    kinds = (ipywidgets.SelectionSlider, ipywidgets.FloatLogSlider, ipywidgets.FloatSlider, ipywidgets.IntSlider)
    return [control for control in form.inputs if isinstance(control, kinds)]


def dropdowns(form):
    return [control for control in form.inputs if isinstance(control, ipywidgets.Dropdown)]


def echo_front_end(control) -> None:
    """Set a control the way the browser does: SelectionSlider and Dropdown by index, sliders by the snapped value."""
    if isinstance(control, ipywidgets.Dropdown):
        control.set_state({"index": control.index})
    elif isinstance(control, ipywidgets.SelectionSlider):
        control.set_state({"index": control.options.index(next(
            option for option in control.options if option[1] == front_end_value(control)))})
    else:
        control.set_state({"value": front_end_value(control)})


# A LoRA start with values off the dropdowns' lists (r 12, alpha 24, dropout 0.15, patience 5) and early stopping on.
LORA_START = {"method": "lora", "lora_r": 12, "lora_alpha": 24, "lora_dropout": 0.15, "early_stopping_patience": 5}
PROBE_START = {"method": "linear-probe", "early_stopping_patience": 1}
PRESETS = ("colab", "cpu", "smoke")
FORM_STARTS = [(preset, model, {}) for preset in PRESETS for model in [None] + [choice for _, choice in MODEL_CHOICES]] \
    + [(preset, model, start) for preset in PRESETS for model in (None, "bert-base-uncased")
       for start in (LORA_START, PROBE_START)]


@pytest.mark.parametrize("preset, model, start", FORM_STARTS)
def test_the_browser_leaves_an_untouched_form_as_it_was(preset, model, start):
    form = RunForm(ab.RunConfig.from_preset(preset, output_dir="runs", **start), T4)
    if model:
        form.model.value = model  # and with it the usual learning rate of the family and the method
    before = form.config()
    assert before.method == start.get("method", "full")
    if model and model != ab.RunConfig.from_preset(preset).model:
        assert before.lr == ab.notebook.default_learning_rate(model, before.method)
    assert len(sliders(form)) == 4  # learning rate, epochs, max length, warm-up share
    assert len(dropdowns(form)) == 8  # model, method, LoRA r / alpha / dropout, batch size, rows, early stopping
    for control in sliders(form) + dropdowns(form):
        echo_front_end(control)
    assert form.config() == before
    assert ab.lab.folders.run_dir_for(form.config()) == ab.lab.folders.run_dir_for(before)
    if start:
        assert {name: getattr(before, name) for name in start} == start


def test_every_point_of_every_slider_reaches_the_config_exactly(smoke_form):
    fields = {"learning rate": "lr", "epochs": "epochs", "max length": "max_length", "warm-up share": "warmup_ratio"}
    for control in sliders(smoke_form):
        for index, (label, value) in enumerate(control.options):
            control.set_state({"index": index})
            assert getattr(smoke_form.config(), fields[control.description]) == value, label


def test_every_choice_of_every_dropdown_reaches_the_config_exactly(smoke_form):
    fields = {"method": "method", "LoRA rank r": "lora_r", "LoRA alpha": "lora_alpha", "LoRA dropout": "lora_dropout",
              "batch size": "batch_size", "early stopping": "early_stopping_patience"}
    for control in dropdowns(smoke_form):
        if control.description not in fields:
            continue
        for index in range(len(control.options)):
            control.set_state({"index": index})  # what the page sends back when a student picks a choice
            expected = control.value or None if control.description == "early stopping" else control.value
            assert getattr(smoke_form.config(), fields[control.description]) == expected, control.options[index]


def test_values_off_the_usual_lists_are_added_to_the_sliders_and_survive_the_browser():
    start = ab.RunConfig.from_preset("cpu", output_dir="runs", lr=2.5e-4, epochs=1.25, max_length=100, warmup_ratio=0.07,
                                method="lora", lora_r=12, lora_alpha=20, lora_dropout=0.15, early_stopping_patience=4)
    form = RunForm(start, T4)
    for control in sliders(form) + dropdowns(form):
        echo_front_end(control)
    assert form.config() == start
    assert ("2.5e-4", 2.5e-4) in form.lr.options and ("1.25", 1.25) in form.epochs.options
    assert ("12", 12) in form.lora_r.options and ("0.15", 0.15) in form.lora_dropout.options
    assert ("after 4 epochs without gain", 4) in form.early_stopping_patience.options
    form.model.value = "bert-base-uncased"
    form.reset_to_defaults()  # back to the values off the lists
    assert form.config() == start


def test_the_teachers_class_defaults_are_the_forms_starting_values(tmp_path, cpu_runtime, monkeypatch):
    from agnews_bert.notebook import class_defaults

    monkeypatch.setattr(class_defaults, "CPU", {"train_size": 1_000, "epochs": 1, "max_length": 96})
    monkeypatch.setattr(class_defaults, "GPU", {"model": "bert-base-uncased", "train_size": 4_000})
    form = ab.notebook.settings_form(str(tmp_path), cpu_runtime)
    expected = ab.RunConfig.from_preset("cpu", output_dir=str(tmp_path), train_size=1_000, epochs=1, max_length=96)
    assert form.config() == expected
    form.seed.value = 3
    form.reset_to_defaults()
    assert form.config() == expected  # "back to defaults" means the class's defaults
    on_t4 = ab.notebook.settings_form(str(tmp_path / "gpu"), T4).config()
    assert (on_t4.model, on_t4.train_size, on_t4.lr) == ("bert-base-uncased", 4_000, 2e-5)
    models, budget = ab.notebook.comparison_plan(["bert-base-uncased"], str(tmp_path), T4)
    assert (budget.train_size, budget.epochs) == (4_000, 1)  # notebook 02 keeps its one epoch


def test_a_wrong_class_default_names_itself(tmp_path, cpu_runtime, monkeypatch):
    from agnews_bert.notebook import class_defaults

    monkeypatch.setattr(class_defaults, "CPU", {"epoch": 1})
    with pytest.raises(ab.AgNewsError, match="unknown RunConfig field.*epoch"):
        ab.notebook.settings_form(str(tmp_path), cpu_runtime)


def test_smoke_mode_ignores_the_class_defaults(monkeypatch):
    from agnews_bert.notebook import class_defaults, colab, widgets

    monkeypatch.setenv(colab.SMOKE_ENV, "1")
    monkeypatch.setattr(class_defaults, "CPU", {"model": "bert-base-uncased"})
    assert widgets.notebook_config("runs", hardware=Hardware("cpu", "CPU")).model == "smoke"
