"""Token attributions on the smoke model: completeness, the shaded text, the mistakes table, the prediction box."""

import html
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import agnews_bert as ab
from agnews_bert.scoring import load_run
from agnews_bert.notebook.attributions import shaded_text_html, tolerance_for


@pytest.fixture(scope="module")
def model_and_tokenizer(smoke_run):
    loaded = load_run(smoke_run["run_dir"])
    return loaded.model, loaded.tokenizer


@pytest.fixture(scope="module")
def test_texts():
    return ab.load_agnews(ab.RunConfig.from_preset("smoke"))["test"]["text"][:6]


def test_attributions_add_up_to_the_logit_difference(model_and_tokenizer, test_texts):
    model, tokenizer = model_and_tokenizer
    for text in test_texts:
        attribution = ab.notebook.explain(text, model=model, tokenizer=tokenizer)
        assert attribution.scores.shape == (4, len(attribution.tokens))
        for row, class_id in enumerate(attribution.classes):
            difference = attribution.logits[class_id] - attribution.baseline_logits[class_id]
            assert abs(attribution.scores[row].sum() - difference) <= tolerance_for(difference)
        assert all(check["passes"] for check in attribution.completeness().values())
        # The special tokens are the same in the baseline: they carry no attribution.
        assert np.all(attribution.scores[:, np.array(attribution.special)] == 0)


def test_too_few_steps_fail_the_completeness_check(model_and_tokenizer, test_texts):
    """The check can fail: an integral taken in 2 steps misses by more than the tolerance for some class."""
    model, tokenizer = model_and_tokenizer
    rough = [ab.notebook.explain(text, model=model, tokenizer=tokenizer, n_steps=2, max_steps=None) for text in test_texts[:3]]
    assert not all(check["passes"] for attribution in rough for check in attribution.completeness().values())
    assert {attribution.n_steps for attribution in rough} == {2}
    # Left to double its steps, explain goes on until the check passes.
    refined = [ab.notebook.explain(text, model=model, tokenizer=tokenizer, n_steps=2) for text in test_texts[:3]]
    assert all(check["passes"] for attribution in refined for check in attribution.completeness().values())
    assert max(attribution.n_steps for attribution in refined) > 2


def test_explain_agrees_with_predict(smoke_run, test_texts):
    attribution = ab.notebook.explain(test_texts[0], smoke_run["run_dir"])
    assert attribution.label == ab.predict([test_texts[0]], smoke_run["run_dir"])[0]["label"]
    top = attribution.top_tokens(k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    assert all(token not in ("[CLS]", "[SEP]") for token, _ in top)


def test_the_shaded_text_is_the_text_itself_with_every_token_shaded():
    text = "Oil <up> & gas down"
    spans = [(0, 0), (0, 3), (4, 8), (10, 11), (12, 15), (16, 20), (0, 0)]
    scores = [0.0, 0.8, -0.4, 0.1, 0.2, -0.1, 0.0]
    special = [True, False, False, False, False, False, True]
    shaded = shaded_text_html(text, spans, scores, special)
    body = shaded[shaded.index(">") + 1:-len("</div>")]
    assert html.unescape(re.sub(r"<[^>]+>", "", body)) == text  # nothing dropped, nothing doubled, escaped
    backgrounds = re.findall(r'background:rgb\((\d+),(\d+),(\d+)\)', body)
    assert len(backgrounds) == 5
    assert backgrounds[0] == ("94", "189", "116")  # the strongest: white mixed 3:1 with green (40, 167, 69)
    assert int(backgrounds[1][0]) > int(backgrounds[1][1])  # pushed away: red
    assert 'title="+0.800"' in body and "&lt;up&gt;" in body
    assert "background:#fff;color:#111" in shaded  # a light card with dark text, in a dark theme too


def test_the_mistakes_table_shades_each_mistake_towards_its_wrong_class(smoke_run):
    mistakes = smoke_run["test"]["most_confident_errors"]
    table = ab.notebook.explain_mistakes(smoke_run["run_dir"], k=3)
    assert table._repr_html_() == str(table)
    if not mistakes:
        assert "got every test text right" in table
        return
    assert table.count("<tr>") == 1 + min(3, len(mistakes))
    for mistake in mistakes[:3]:
        assert f"towards {mistake['predicted_label']}" in table


def test_the_prediction_box_shows_the_shaded_text(smoke_run, test_texts):
    text_box, button, answer, *rows = ab.notebook.prediction_widget(smoke_run["run_dir"]).children
    text_box.value = test_texts[1]
    button.click()
    label = ab.predict([test_texts[1]], smoke_run["run_dir"])[0]["label"]
    assert f"towards {label}" in answer.value
    assert answer.value.count("<span style=\"background:rgb(") >= 2
    quiet_box, quiet_button, quiet_answer, *_ = ab.notebook.prediction_widget(smoke_run["run_dir"], explain=False).children
    quiet_button.click()
    assert "towards" not in quiet_answer.value and "Predicted class" in quiet_answer.value


def test_without_captum_explain_says_how_to_install_it(smoke_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "captum.attr", None)  # what Python does for a package not installed
    with pytest.raises(ab.AgNewsError, match=r"pip install \"captum"):
        ab.notebook.explain("Oil prices rose", smoke_run["run_dir"])
    text_box, button, answer, *rows = ab.notebook.prediction_widget(smoke_run["run_dir"]).children
    button.click()
    assert "Predicted class" in answer.value and "pip install" in answer.value


def test_an_empty_text_is_refused(smoke_run):
    with pytest.raises(ab.AgNewsError, match="non-empty headline"):
        ab.notebook.explain("  ", smoke_run["run_dir"])


def test_notebook_04_installs_captum_only_on_colab(monkeypatch):
    import subprocess
    import types

    import jupytext

    notebook = jupytext.read(Path(__file__).resolve().parents[1] / "notebooks" / "04_understand_the_model.py")
    (cell,) = [cell.source for cell in notebook.cells if cell.cell_type == "code" and "captum_pip" in cell.source]
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, **_: commands.append(command) or
                        subprocess.CompletedProcess(command, 0, stdout="", stderr=""))
    exec(cell, {"sys": sys, "subprocess": subprocess})
    assert commands == []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(cell, {"sys": sys, "subprocess": subprocess})
    assert commands == [[sys.executable, "-m", "pip", "install", "-q", "captum>=0.7"]]
