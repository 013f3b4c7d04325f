"""The class's starting settings for the notebooks: the one place a teacher sets them.

Notebook 01's settings form (and its "back to defaults") and notebook 02's
comparison budget start from a preset chosen for the runtime: "colab"
(ModernBERT-base, 12,000 rows, 2 epochs) with a GPU, "cpu" (a small BERT on
2,000 rows) without one. The fields below replace the preset's, for every
student whose notebook installs this package from your fork (README, "Teachers").
Any RunConfig field can be set; a wrong name or value stops the notebook with a
message that names it. Notebook 02 keeps its one epoch unless its cell says
otherwise. Smoke mode (CI) ignores them, so the tests stay offline.

Example (a shorter first lab on a T4):
    GPU = {"train_size": 4_000, "epochs": 1}
"""

GPU = {}  # with a GPU, e.g. {"model": "bert-base-uncased", "train_size": 4_000, "epochs": 1}
CPU = {}  # without one, e.g. {"train_size": 1_000}


def class_defaults(preset: str) -> dict:
    """The teacher's fields for a notebook preset. Example: "colab" -> GPU, "smoke" -> {}"""
    return dict({"colab": GPU, "cpu": CPU}.get(preset, {}))
