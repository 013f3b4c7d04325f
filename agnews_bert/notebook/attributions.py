"""Token attributions: which words pushed a prediction towards each class, by Integrated Gradients.

Integrated Gradients (Sundararajan et al., 2017) walks in a straight line from
a baseline input to the real one and adds up the gradient of a class's logit
along the way. Here the walk is on the input embeddings: the baseline is the
same text with every word replaced by the padding token (the special tokens
[CLS] and [SEP] stay). A token's attribution is the sum over its embedding of
(input - baseline) x the averaged gradient: positive pushed the logit up,
negative pushed it down.

The method has a check built in, *completeness*: a text's attributions add up
to its logit minus the baseline's logit. The sum is an integral computed in
`n_steps` steps, so it is off by a little; `Attribution.completeness` reports
the gap, and `COMPLETENESS_TOLERANCE` is what we accept (5%, the figure the
paper suggests). Where 50 steps miss it (a long text through a deeper model),
`explain` doubles the steps, up to `MAX_STEPS`, as the paper advises, and
records the steps it used.

The attribution is captum's `LayerIntegratedGradients` on the model's input
embedding layer (captum is an optional extra: `pip install captum`); nothing
here computes a gradient by hand. Taught in notebook 04; the prediction box of
notebooks 03 and 04 shades the text it labels.

`explain("Stocks fell as oil prices rose", "runs/my-run")` shows, in a notebook,
the text with each token shaded; its `completeness()` gives, per class, the sum,
the logit difference and the gap, such as {'World': {'sum': 1.93,
'logit_difference': 1.94, 'gap': 0.004, 'passes': True}, ...}.

Example:
    >>> tolerance_for(0.4), round(tolerance_for(6.0), 4)
    (0.05, 0.3)
"""

import html
from dataclasses import dataclass

import numpy as np

from ..errors import AgNewsError, setting
from ..labels import CLASS_NAMES

N_STEPS = 50
MAX_STEPS = 400
# Largest |sum of attributions - (logit - baseline logit)| accepted, relative to max(1, |logit difference|).
COMPLETENESS_TOLERANCE = 0.05
INTERNAL_BATCH_SIZE = 64  # interpolated texts per forward pass: keeps memory flat for long texts


@dataclass
class Attribution:
    """The attributions of one text: `scores[c][t]` is token t's push towards class `classes[c]`.

    Tokens are those the model read (special tokens included, with their character
    `spans` in `text`; a special token's span is (0, 0)). Shown in a notebook as the
    text shaded towards the predicted class.
    """

    text: str
    tokens: list
    spans: list
    special: list
    classes: list
    scores: np.ndarray
    logits: np.ndarray
    baseline_logits: np.ndarray
    label_id: int
    n_steps: int = N_STEPS

    @property
    def label(self) -> str:
        return CLASS_NAMES[self.label_id]

    def completeness(self) -> dict:
        """For each class: the attributions' sum, logit - baseline logit, and the gap between them."""
        report = {}
        for row, class_id in enumerate(self.classes):
            total = float(self.scores[row].sum())
            difference = float(self.logits[class_id] - self.baseline_logits[class_id])
            report[CLASS_NAMES[class_id]] = {"sum": round(total, 4), "logit_difference": round(difference, 4),
                                                  "gap": round(abs(total - difference), 4),
                                                  "passes": abs(total - difference) <= tolerance_for(difference)}
        return report

    def top_tokens(self, class_name: str | None = None, k: int = 5) -> list:
        """The k tokens that pushed hardest towards a class (default: the predicted one), as (token, score)."""
        row = self._row(class_name)
        order = [index for index in np.argsort(-row) if not self.special[index]][:k]
        return [(self.tokens[index], round(float(row[index]), 4)) for index in order]

    def html(self, class_name: str | None = None) -> str:
        """The text with each token shaded: green pushed towards the class, red away from it."""
        class_name = class_name or self.label
        return shaded_text_html(self.text, self.spans, self._row(class_name), self.special,
                                caption=f"towards {class_name}")

    def _repr_html_(self) -> str:
        check = self.completeness()[self.label]
        return (f"<div>predicted <b>{html.escape(self.label)}</b>; completeness: the attributions add up to "
                f"{check['sum']:+.3f}, the logit difference is {check['logit_difference']:+.3f} "
                f"(gap {check['gap']:.4f}, {'within' if check['passes'] else 'OUTSIDE'} the tolerance; "
                f"{self.n_steps} steps)</div>\n{self.html()}")

    def _row(self, class_name: str | None) -> np.ndarray:
        class_id = self.label_id if class_name is None else CLASS_NAMES.index(class_name)
        if class_id not in self.classes:
            raise AgNewsError(f"no attributions towards {class_name}: explain(..., {setting('classes', None)}) "
                              "computes all", field="classes")
        return self.scores[self.classes.index(class_id)]


def tolerance_for(logit_difference: float) -> float:
    """The largest completeness gap accepted. Example: 0.4 -> 0.05, 6.0 -> 0.3"""
    return COMPLETENESS_TOLERANCE * max(1.0, abs(logit_difference))


def explain(text: str, run=None, *, model=None, tokenizer=None, max_length: int | None = None,
            classes=None, n_steps: int = N_STEPS, max_steps: int | None = MAX_STEPS) -> Attribution:
    """Integrated Gradients attributions of one text towards each class (or those in `classes`, by id).

    Pass either `run` (a finished run folder or a SavedRun) or `model` and `tokenizer`, as for `predict`.
    n_steps: steps of the integral; while the completeness check fails, they are doubled up to
    max_steps (None or max_steps <= n_steps: exactly n_steps).
    Example: explain("The striker scored twice", run_dir).top_tokens(k=2) -> [("striker", 0.91), ("scored", 0.40)]
    """
    import torch

    from ..scoring import load_run

    if not isinstance(text, str) or not text.strip():
        raise AgNewsError(f"{setting('text', text)}: explain needs a non-empty headline", field="text")
    run = load_run(run, model=model, tokenizer=tokenizer)
    model, tokenizer = run.model, run.tokenizer
    encoded = tokenizer(text, truncation=True, max_length=max_length or run.max_length, return_tensors="pt",
                        return_offsets_mapping=True, return_special_tokens_mask=True).to(model.device)
    input_ids, attention_mask = encoded["input_ids"], encoded["attention_mask"]
    baseline_ids = _baseline_ids(input_ids, encoded["special_tokens_mask"], tokenizer)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[0].float().cpu().numpy()
        baseline_logits = model(input_ids=baseline_ids, attention_mask=attention_mask).logits[0].float().cpu().numpy()
    classes = list(range(len(logits))) if classes is None else [int(class_id) for class_id in classes]
    while True:
        scores = _integrated_gradients(model, input_ids, baseline_ids, attention_mask, classes, n_steps)
        attribution = Attribution(
            text=text, tokens=tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()),
            spans=[tuple(span) for span in encoded["offset_mapping"][0].tolist()],
            special=[bool(flag) for flag in encoded["special_tokens_mask"][0].tolist()], classes=classes,
            scores=scores, logits=logits, baseline_logits=baseline_logits, label_id=int(logits.argmax()),
            n_steps=n_steps)
        if max_steps is None or n_steps * 2 > max_steps or all(
                check["passes"] for check in attribution.completeness().values()):
            return attribution
        n_steps *= 2


def _integrated_gradients(model, input_ids, baseline_ids, attention_mask, classes: list, n_steps: int) -> np.ndarray:
    """captum's LayerIntegratedGradients on the input embeddings, one row per class: (classes x tokens)."""
    integrated = _captum().LayerIntegratedGradients(
        lambda ids, mask: model(input_ids=ids, attention_mask=mask).logits, model.get_input_embeddings())
    repeat = len(classes)
    attributions = integrated.attribute(
        input_ids.repeat(repeat, 1), baselines=baseline_ids.repeat(repeat, 1), target=classes,
        additional_forward_args=(attention_mask.repeat(repeat, 1),), n_steps=n_steps,
        internal_batch_size=INTERNAL_BATCH_SIZE)
    return attributions.sum(dim=-1).detach().float().cpu().numpy()


def _baseline_ids(input_ids, special_tokens_mask, tokenizer):
    """The text with every ordinary token replaced by the padding token; special tokens kept."""
    filler = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.unk_token_id
    return input_ids.masked_fill(special_tokens_mask == 0, filler or 0)


def _captum():
    try:
        import captum.attr
    except ImportError as error:
        raise AgNewsError('token attributions need captum, which Colab does not ship; install it with: '
                          'pip install "captum>=0.7" (or pip install "agnews_bert[explain]")') from error
    return captum.attr


def shaded_text_html(text: str, spans: list, scores, special: list, caption: str = "") -> str:
    """HTML of `text` with each token's span shaded by its score, on a light card (readable in dark themes too).

    Green pushed towards the class, red away from it; the strongest token gets the
    darkest shade, and hovering over a token shows its score.
    Example: shaded_text_html("Oil up", [(0, 3), (4, 6)], [0.8, -0.1], [False, False])
             -> '<div ...><span style="background:rgb(...)" title="0.800">Oil</span> <span ...>up</span></div>'
    """
    scores = np.asarray(scores, dtype=float)
    largest = max((abs(score) for score, is_special in zip(scores, special) if not is_special), default=0.0) or 1.0
    pieces, position = [], 0
    for (start, end), score, is_special in zip(spans, scores, special):
        if is_special or end <= start or start < position:
            continue
        pieces.append(html.escape(text[position:start]))
        pieces.append(f'<span style="background:{_shade(score / largest)};border-radius:3px;padding:0 1px" '
                      f'title="{score:+.3f}">{html.escape(text[start:end])}</span>')
        position = end
    pieces.append(html.escape(text[position:]))
    label = f'<div style="font-size:85%;color:#444">{html.escape(caption)} (green: for, red: against)</div>' \
        if caption else ""
    return (f'<div style="background:#fff;color:#111;padding:6px 8px;border:1px solid #ccc;border-radius:4px;'
            f'line-height:1.7">{label}{"".join(pieces)}</div>')


def _shade(strength: float) -> str:
    """White mixed with green (strength > 0) or red (< 0); |strength| = 1 is the darkest, still light enough for black text."""
    colour = (40, 167, 69) if strength > 0 else (220, 53, 69)  # green, red
    mix = 0.75 * min(abs(strength), 1.0)
    return "rgb({},{},{})".format(*(round(255 + (part - 255) * mix) for part in colour))


class HTML(str):
    """A string of HTML that a notebook shows rendered (and `print` shows as markup)."""

    _repr_html_ = str.__str__  # the markup itself, as a plain str


def explain_mistakes(run, k: int = 5) -> HTML:
    """A table of a run's k most confident test mistakes, each text shaded towards the class it was given.

    run: a finished run folder or a SavedRun. The mistakes are results["test"]["most_confident_errors"];
    the table answers "why did it say Business?".
    """
    from ..lab.folders import load_results
    from ..scoring import load_run

    run = load_run(run)
    rows = []
    for mistake in load_results(run.folder)["test"].get("most_confident_errors", [])[:k]:
        attribution = explain(mistake["text"], run, classes=[CLASS_NAMES.index(mistake["predicted_label"])])
        cells = [mistake["true_label"], mistake["predicted_label"], f"{mistake['probability']:.3f}"]
        rows.append(f"<tr><td style='text-align:left'>{attribution.html(mistake['predicted_label'])}</td>"
                    + "".join(f"<td style='padding:0 8px'>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    if not rows:
        return HTML("<p>No test mistakes to explain: the model got every test text right.</p>")
    header = ("<tr><th>why did it say that? (shaded towards the predicted class)</th><th>true</th>"
              "<th>predicted</th><th>probability</th></tr>")
    return HTML(f"<table>{header}{''.join(rows)}</table>")
