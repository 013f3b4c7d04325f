import pytest

import agnews_bert as ab
from agnews_bert.scoring import load_run
from agnews_bert.labels import CLASS_NAMES


def parts(widget):
    """(text box, button, answer, [(bar, percent label) per class]) of a prediction widget."""
    text_box, button, answer, *rows = widget.children
    return text_box, button, answer, [tuple(row.children) for row in rows]


@pytest.fixture(scope="module")
def test_texts():
    return ab.load_agnews(ab.RunConfig.from_preset("smoke"))["test"]["text"][:3]


def test_widget_predicts_from_a_smoke_run_folder(smoke_run, test_texts):
    widget = ab.notebook.prediction_widget(smoke_run["run_dir"])
    text_box, button, answer, rows = parts(widget)
    assert [bar.description for bar, _ in rows] == list(CLASS_NAMES)
    for text in test_texts:
        expected = ab.predict([text], smoke_run["run_dir"])[0]
        text_box.value = text
        button.click()
        assert f"<b>{expected['label']}</b>" in answer.value
        for (bar, percent), name in zip(rows, CLASS_NAMES):
            assert bar.value == pytest.approx(expected["probabilities"][name], abs=1e-4)
            assert percent.value == f"{expected['probabilities'][name]:.1%}"
            assert (bar.bar_style == "success") == (name == expected["label"])
        assert sum(bar.value for bar, _ in rows) == pytest.approx(1, abs=1e-3)


def test_widget_takes_a_model_and_tokenizer_in_memory(smoke_run, test_texts):
    loaded = load_run(smoke_run["run_dir"])
    model, tokenizer = loaded.model, loaded.tokenizer
    text_box, button, answer, rows = parts(ab.notebook.prediction_widget((model, tokenizer)))
    text_box.value = test_texts[0]
    button.click()
    assert f"<b>{ab.predict([test_texts[0]], smoke_run['run_dir'])[0]['label']}</b>" in answer.value


def test_an_empty_text_box_clears_the_last_answer_and_says_what_to_do(smoke_run):
    text_box, button, answer, rows = parts(ab.notebook.prediction_widget(smoke_run["run_dir"]))
    button.click()  # the example headline first: bars on screen
    assert sum(bar.value for bar, _ in rows) == pytest.approx(1, abs=1e-3)
    text_box.value = "   "
    button.click()
    assert "Type a headline first" in answer.value and "non-empty string" not in answer.value
    assert all(bar.value == 0 and percent.value == "" for bar, percent in rows)


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ab.AgNewsError, match="holds no saved model"):
        ab.notebook.prediction_widget(tmp_path)
    with pytest.raises(ab.AgNewsError, match="run folder or a \\(model, tokenizer\\) pair"):
        ab.notebook.prediction_widget(42)
