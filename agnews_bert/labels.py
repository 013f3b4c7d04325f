"""The four AG News classes and the mappings between ids and names.

The Hugging Face copy (`fancyzhx/ag_news`) numbers the classes 0-3; the
original CSV numbers them 1-4. Everything inside this package uses 0-3.

Example:
    >>> LABEL2ID["Sci/Tech"], ID2LABEL[1]
    (3, 'Sports')
"""

CLASS_NAMES = ("World", "Sports", "Business", "Sci/Tech")
NUM_CLASSES = len(CLASS_NAMES)
ID2LABEL = dict(enumerate(CLASS_NAMES))
LABEL2ID = {name: index for index, name in ID2LABEL.items()}


def label_id_from_name(name: str) -> int | None:
    """Return the id of a class name, ignoring case and spaces; None when unknown.

    Example: "sci/tech" -> 3, " Sports " -> 1, "Weather" -> None
    """
    return {known.lower(): label_id for known, label_id in LABEL2ID.items()}.get(name.strip().lower())
