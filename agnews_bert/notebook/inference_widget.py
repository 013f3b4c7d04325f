"""A text box and a button that label a headline with a fine-tuned model: notebook 03's demo.

The model is loaded once, when the widget is built; each click runs `predict`
on the text and shows the predicted class and one bar per class with its
probability. Under the predicted class, the text is shaded by which words
pushed it there (Integrated Gradients, attributions.py), where captum is
installed; without captum the box says how to install it. The bars are
ipywidgets progress bars, not a matplotlib figure, so they update in place,
and look the same in Colab (ipywidgets 7) and in Jupyter (ipywidgets 8); the
one keyword that differs between the two (the hover text) goes through
`_compat.tooltip_kwargs`.

In a notebook: `prediction_widget(run_dir)`, the last line of a cell, shows the box.

Example:
    >>> EXAMPLE_TEXT
    'The striker scored twice as the home side won the cup final'
"""

import html
from pathlib import Path

from .. import _compat
from ..errors import AgNewsError
from ..labels import CLASS_NAMES
from ..prediction import predict
from ..scoring import SavedRun, load_run

EXAMPLE_TEXT = "The striker scored twice as the home side won the cup final"
EMPTY_TEXT_HINT = "Type a headline first, then press <b>Predict</b>."


def prediction_widget(source, max_length: int | None = None, explain: bool = True):
    """A widget that predicts the class of the text typed into it.

    `source` is a finished run folder, a SavedRun (`load_run`), or a (model, tokenizer) pair already in memory.
    explain=True shades the text towards the predicted class under the answer.
    Returns an ipywidgets VBox: the text box, the Predict button, the answer, and one
    row per class with a bar and its probability in percent.
    """
    widgets = _ipywidgets()
    run = _saved_run(source)
    text_box = widgets.Textarea(value=EXAMPLE_TEXT, placeholder="Type or paste a news headline", description="text",
                                layout=widgets.Layout(width="95%", height="80px"),
                                **_compat.tooltip_kwargs("A headline, or a headline and its first sentence"))
    button = widgets.Button(description="Predict", button_style="primary")
    answer = widgets.HTML(value="Press <b>Predict</b> to label the text.")
    bars = {name: widgets.FloatProgress(min=0.0, max=1.0, description=name, style={"description_width": "80px"},
                                        layout=widgets.Layout(width="60%")) for name in CLASS_NAMES}
    percents = {name: widgets.Label(value="") for name in CLASS_NAMES}

    def show_prediction(_button=None):
        if not text_box.value.strip():  # the old bars would read as the answer for an empty box: clear them
            answer.value = EMPTY_TEXT_HINT
            for name in CLASS_NAMES:
                bars[name].value, percents[name].value = 0.0, ""
            return
        try:
            row = predict([text_box.value], run, max_length=max_length)[0]
        except AgNewsError as error:  # anything else predict refuses: say so under the button
            answer.value = f"<span style='color:#b00'>{html.escape(str(error))}</span>"
            return
        label = row["label"]
        answer.value = f"Predicted class: <b>{html.escape(label)}</b> ({row['probabilities'][label]:.1%})" + (
            _why(row, run, max_length) if explain else "")
        for name, probability in row["probabilities"].items():
            bars[name].value = probability
            bars[name].bar_style = "success" if name == label else "info"
            percents[name].value = f"{probability:.1%}"

    button.on_click(show_prediction)
    rows = [widgets.HBox([bars[name], percents[name]]) for name in CLASS_NAMES]
    return widgets.VBox([text_box, button, answer, *rows])


def _why(row: dict, run, max_length: int) -> str:
    """The text shaded towards its predicted class, or why it cannot be (no captum) in grey."""
    from .attributions import explain

    try:
        return explain(row["text"], run, max_length=max_length, classes=[row["label_id"]]).html()
    except AgNewsError as error:
        return f"<div style='color:#888'>{html.escape(str(error))}</div>"


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:
        raise AgNewsError('the prediction widget needs ipywidgets; install it with: '
                          'pip install "ipywidgets>=7.7"') from error
    return ipywidgets


def _saved_run(source):
    """The SavedRun of a run folder, a SavedRun, or a (model, tokenizer) pair."""
    if isinstance(source, (str, Path, SavedRun)):
        return load_run(source)
    try:
        model, tokenizer = source
    except (TypeError, ValueError):
        raise AgNewsError(
            f"prediction_widget needs a run folder or a (model, tokenizer) pair, not {type(source).__name__}",
            field="source") from None
    return load_run(model=model, tokenizer=tokenizer)

