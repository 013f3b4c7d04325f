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
    return RunForm(ab.RunConfig.preset("smoke", output_dir="runs"), Hardware("cpu", "CPU"))


def test_untouched_form_gives_back_the_config_it_was_built_from(smoke_form):
    assert smoke_form.config() == ab.RunConfig.preset("smoke", output_dir="runs")
    colab_form = RunForm(ab.RunConfig.preset("colab"), T4)
    assert colab_form.config() == ab.RunConfig.preset("colab", lr=5e-5)  # the lr the run would use anyway


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
    form = RunForm(ab.RunConfig.preset("colab"), T4)
    form.model.value = "bert-base-uncased"
    assert form.config().model == "bert-base-uncased"
    assert form.config().lr == pytest.approx(2e-5)
    assert form.config().resolved_run_name.startswith("bert-base-uncased_n12000_lr2e-05_ep2_seed42_")
    form.model.value = "answerdotai/ModernBERT-base"
    assert form.config().lr == pytest.approx(5e-5)


def test_all_rows_means_no_train_size_limit():
    form = RunForm(ab.RunConfig.preset("colab"), T4)
    assert form.train_size.value == 12_000
    form.train_size.value = ALL_ROWS
    assert form.config().train_size is None
    assert form.train_size.options[-1] == ("all", ALL_ROWS)


def test_precision_is_shown_as_detected_not_chosen():
    form = RunForm(ab.RunConfig.preset("colab"), T4)
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
    form = RunForm(ab.RunConfig.preset("cpu", model="./my-checkpoint", train_size=1_500), T4)
    assert form.model.options[0] == ("./my-checkpoint", "./my-checkpoint")
    assert ("1,500", 1_500) in form.train_size.options
    assert form.config().model == "./my-checkpoint" and form.config().train_size == 1_500


def test_the_form_is_a_core_widget_and_builds_without_deprecation_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=DeprecationWarning, module="agnews_bert")  # ours, not ipywidgets 7's
        form = RunForm(ab.RunConfig.preset("smoke"), T4)
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
    form = RunForm(ab.RunConfig.preset("smoke", output_dir=output_dir), Hardware("cpu", "CPU"))
    assert "already trained</b> with these settings: the cells below load it" in form.summary.value
    form.seed.value = 43
    assert "already trained" not in form.summary.value
    overwriting = RunForm(ab.RunConfig.preset("smoke", output_dir=output_dir, overwrite=True), Hardware("cpu", "CPU"))
    assert "it will be trained again and replaced" in overwriting.summary.value


@pytest.fixture
def cpu_runtime(monkeypatch):
    """Smoke mode off (notebooks/conftest.py turns it on for the session) and no GPU."""
    from agnews_bert import colab

    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    return Hardware("cpu", "CPU")


def test_rebuilding_the_form_keeps_the_students_values_until_reset(tmp_path, cpu_runtime):
    form = ab.settings_form(str(tmp_path), cpu_runtime)
    assert form.config().preset == "cpu"  # no GPU: the CPU-sized default
    form.batch_size.value = 16
    form.max_length.value = 96
    form.warmup_ratio.value = 0.2
    form.overwrite.value = True
    again = ab.settings_form(str(tmp_path), cpu_runtime)  # the form cell run again, or Run all
    config = again.config()
    assert (config.batch_size, config.max_length, config.warmup_ratio, config.overwrite) == (16, 96, 0.2, True)
    again.reset_to_defaults()
    assert again.config() == ab.RunConfig.preset("cpu", output_dir=str(tmp_path))
    assert ab.settings_form(str(tmp_path), cpu_runtime).config() == again.config()  # the reset is remembered too


def test_a_damaged_settings_file_gives_the_defaults(tmp_path, cpu_runtime):
    from agnews_bert.notebook.widgets import SETTINGS_FILE

    (tmp_path / SETTINGS_FILE).write_text('{"batch_size": "sixteen", "lr": ', encoding="utf-8")
    assert ab.settings_form(str(tmp_path), cpu_runtime).config() == ab.RunConfig.preset("cpu", output_dir=str(tmp_path))
    (tmp_path / SETTINGS_FILE).write_text('{"batch_size": 0}', encoding="utf-8")  # valid JSON, invalid setting
    assert ab.settings_form(str(tmp_path), cpu_runtime).config().batch_size == 32


def test_the_form_shows_the_estimate_and_warns_before_a_long_run(tmp_path, cpu_runtime):
    form = ab.settings_form(str(tmp_path), cpu_runtime)
    assert "estimated time on CPU: about" in form.summary.value and "over 30 minutes" not in form.summary.value
    form.model.value = "answerdotai/ModernBERT-base"  # the GPU settings stay one click away
    assert "over 30 minutes" in form.summary.value


def test_on_drive_the_form_says_where_checkpoints_go(monkeypatch):
    from agnews_bert import colab

    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    monkeypatch.setattr(RunForm, "_remember", lambda self: None)  # nothing may be written to /content here
    form = RunForm(colab.notebook_config(colab.DRIVE_RUNS_DIR, hardware=T4), T4)
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


def echo_front_end(control) -> None:
    """Set a slider the way the browser does: SelectionSlider by index, the others by the snapped value."""
    if isinstance(control, ipywidgets.SelectionSlider):
        control.set_state({"index": control.options.index(next(
            option for option in control.options if option[1] == front_end_value(control)))})
    else:
        control.set_state({"value": front_end_value(control)})


FORM_STARTS = [(preset, model) for preset in ("colab", "cpu", "smoke")
               for model in [None] + [choice for _, choice in MODEL_CHOICES]]


@pytest.mark.parametrize("preset, model", FORM_STARTS)
def test_the_browser_leaves_an_untouched_form_as_it_was(preset, model):
    form = RunForm(ab.RunConfig.preset(preset, output_dir="runs"), T4)
    if model:
        form.model.value = model  # and with it the family's learning rate
    before = form.config()
    assert len(sliders(form)) == 4  # learning rate, epochs, max length, warm-up share
    for control in sliders(form):
        echo_front_end(control)
    assert form.config() == before
    assert ab.run_dir_for(form.config()) == ab.run_dir_for(before)


def test_every_point_of_every_slider_reaches_the_config_exactly(smoke_form):
    fields = {"learning rate": "lr", "epochs": "epochs", "max length": "max_length", "warm-up share": "warmup_ratio"}
    for control in sliders(smoke_form):
        for index, (label, value) in enumerate(control.options):
            control.set_state({"index": index})
            assert getattr(smoke_form.config(), fields[control.description]) == value, label


def test_values_off_the_usual_lists_are_added_to_the_sliders_and_survive_the_browser():
    start = ab.RunConfig.preset("cpu", output_dir="runs", lr=2.5e-4, epochs=1.25, max_length=100, warmup_ratio=0.07)
    form = RunForm(start, T4)
    for control in sliders(form):
        echo_front_end(control)
    assert form.config() == start
    assert ("2.5e-4", 2.5e-4) in form.lr.options and ("1.25", 1.25) in form.epochs.options
    form.model.value = "bert-base-uncased"
    form.reset_to_defaults()  # back to the values off the lists
    assert form.config() == start


def test_the_teachers_class_defaults_are_the_forms_starting_values(tmp_path, cpu_runtime, monkeypatch):
    from agnews_bert.notebook import class_defaults

    monkeypatch.setattr(class_defaults, "CPU", {"train_size": 1_000, "epochs": 1, "max_length": 96})
    monkeypatch.setattr(class_defaults, "GPU", {"model": "bert-base-uncased", "train_size": 4_000})
    form = ab.settings_form(str(tmp_path), cpu_runtime)
    expected = ab.RunConfig.preset("cpu", output_dir=str(tmp_path), train_size=1_000, epochs=1, max_length=96)
    assert form.config() == expected
    form.seed.value = 3
    form.reset_to_defaults()
    assert form.config() == expected  # "back to defaults" means the class's defaults
    on_t4 = ab.settings_form(str(tmp_path / "gpu"), T4).config()
    assert (on_t4.model, on_t4.train_size, on_t4.lr) == ("bert-base-uncased", 4_000, 2e-5)
    models, budget = ab.colab.comparison_plan(["bert-base-uncased"], str(tmp_path), T4, say=lambda *_: None)
    assert (budget.train_size, budget.epochs) == (4_000, 1)  # notebook 02 keeps its one epoch


def test_a_wrong_class_default_names_itself(tmp_path, cpu_runtime, monkeypatch):
    from agnews_bert.notebook import class_defaults

    monkeypatch.setattr(class_defaults, "CPU", {"epoch": 1})
    with pytest.raises(ab.AgNewsError, match="unknown RunConfig field.*epoch"):
        ab.settings_form(str(tmp_path), cpu_runtime)


def test_smoke_mode_ignores_the_class_defaults(monkeypatch):
    from agnews_bert import colab
    from agnews_bert.notebook import class_defaults

    monkeypatch.setenv(colab.SMOKE_ENV, "1")
    monkeypatch.setattr(class_defaults, "CPU", {"model": "bert-base-uncased"})
    assert colab.notebook_config("runs", hardware=Hardware("cpu", "CPU")).model == "smoke"
