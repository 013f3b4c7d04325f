"""Error analysis: which test texts the model got wrong most confidently, and which classes it mixes up.

A model's accuracy says how often it is wrong; reading its errors says why.
The most confidently wrong examples are often mislabelled rows, or texts that
truly belong to two topics (a merger of sports clubs: Business or Sports?).
The most confused pairs show where the class boundaries are blurred; in AG
News it is usually Business against Sci/Tech.

`evaluate_on_test` stores both in results.json under "most_confident_errors"
and "confused_pairs".

Example:
    >>> confused_pairs([[9, 1, 0, 0], [0, 10, 0, 0], [0, 0, 7, 3], [0, 0, 1, 9]], top=2)
    [{'true': 'Business', 'predicted': 'Sci/Tech', 'count': 3, 'share_of_true': 0.3}, {'true': 'World', ...}]
"""

import itertools

import numpy as np

from .labels import CLASS_NAMES



def most_confident_errors(texts, labels, probabilities, k: int = 10, class_names=CLASS_NAMES):
    """The k wrong predictions with the highest predicted-class probability, as a DataFrame.

    `probabilities` has one row per text and one column per class (softmax
    outputs); `labels` are the true class ids. Columns: text, true_label,
    predicted_label, probability (of the predicted class), most confident first.
    Example: texts ["a", "b"], labels [0, 1], probabilities [[0.9, 0.1], [0.8, 0.2]]
             -> one row: "b", true_label "Sports", predicted_label "World", probability 0.8
    """
    import pandas as pd

    probabilities = np.asarray(probabilities, dtype=float)
    labels = np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:k]
    return pd.DataFrame({
        "text": [texts[index] for index in chosen],
        "true_label": [class_names[labels[index]] for index in chosen],
        "predicted_label": [class_names[predicted[index]] for index in chosen],
        "probability": confidence[chosen].round(4),
    })


def confused_pairs(confusion_matrix, top: int = 3, class_names=CLASS_NAMES) -> list:
    """The `top` (true, predicted) class pairs with the most errors, most first; pairs with none are left out.

    `share_of_true` is the pair's count over all rows of the true class: the
    share of that class the model sends to the wrong one.
    """
    counts = np.asarray(confusion_matrix)
    pairs = [
        {"true": class_names[true], "predicted": class_names[predicted], "count": int(counts[true, predicted]),
         "share_of_true": round(float(counts[true, predicted] / counts[true].sum()), 4)}
        for true, predicted in itertools.permutations(range(len(counts)), 2) if counts[true, predicted] > 0
    ]
    return sorted(pairs, key=lambda pair: -pair["count"])[:top]


def error_analysis(texts, labels, probabilities, confusion_matrix, k: int = 10) -> dict:
    """Both analyses as JSON-ready values, for results.json."""
    errors = most_confident_errors(texts, labels, probabilities, k=k)
    return {"most_confident_errors": errors.to_dict("records"), "confused_pairs": confused_pairs(confusion_matrix)}
