"""load_agnews: AG News from any source, split into train / validation / test.

Design choices, each taught in notebook 01:
- Validation rows are held out from the *training* data, never from test, so
  picking the best epoch never peeks at the test set.
- Subsets are stratified (each class keeps its share) and seeded.
- A training row whose text also appears in the test split is dropped, so a
  duplicate cannot leak the test answer into training.
- Every source ends up as the same two columns: `text` (str) and `label`
  (a ClassLabel over the four class names, ids 0-3).

Sources (`source` and `test_source`):
- a Hub data set id, `fancyzhx/ag_news` by default;
- the original AG News CSV (no header; class 1-4, title, description);
- CSV, JSON Lines or Parquet with `text` and `label` (0-3 or a class name);
- a folder written by `Dataset.save_to_disk` / `DatasetDict.save_to_disk`;
- "smoke": the small synthetic sample shipped with the package.

Example:
    >>> splits = load_agnews("smoke", validation_size=64)
    >>> {name: len(rows) for name, rows in splits.items()}
    {'train': 416, 'validation': 64, 'test': 160}
"""

from collections import Counter
from pathlib import Path

import datasets

from .config import RunConfig
from .errors import AgNewsError, setting
from .hub import check_hub_reachable, looks_like_a_path, unreachable_error
from .labels import CLASS_NAMES, NUM_CLASSES
from .readers import read_local_source, table_rows
from .smoke import resolve_data

DEFAULT_HELD_OUT_TEST_SHARE = 0.2


def load_agnews(source: "str | RunConfig" = "fancyzhx/ag_news", *, test_source: str | None = None,
                train_size: int | float | None = None, validation_size: int | float = 0.1,
                test_size: int | float | None = None, seed: int = 42) -> datasets.DatasetDict:
    """Load AG News and return a DatasetDict with train, validation and test.

    Sizes are row counts, or a share (below 1) of the source's training split.
    Pass a RunConfig instead of a source to take every argument from it.
    The test split's `info.description` says where its rows came from.
    """
    if isinstance(source, RunConfig):
        return load_agnews(source.data, test_source=source.test_data, train_size=source.train_size,
                           validation_size=source.validation_size, test_size=source.test_size, seed=source.seed)
    pool, test = _read_pool_and_test(source, test_source, seed)
    pool = _drop_texts_seen_in(pool, test)
    validation, rest = stratified_take(pool, validation_size, seed, "validation_size")
    train = _take_training_rows(rest, train_size, len(pool), seed)
    require_every_class(train, source)
    if test_size is not None:  # the rows taken keep test.info, and so its description
        test, _ = stratified_take(test, test_size, seed, "test_size")
    return datasets.DatasetDict(train=train, validation=validation, test=test)


def require_every_class(train: datasets.Dataset, source: str) -> None:
    """Raise AgNewsError naming the classes the training rows lack: a model cannot learn a class it never sees.

    Example: only World rows -> "the training rows of 'x.csv' have no Sports, Business, Sci/Tech rows ..."
    """
    present = set(train["label"])
    missing = [name for label, name in enumerate(CLASS_NAMES) if label not in present]
    if missing:
        held = ", ".join(name for label, name in enumerate(CLASS_NAMES) if label in present)
        raise AgNewsError(f"the training rows of {source!r} have no {', '.join(missing)} rows (only {held}); every "
                          "class needs some: check the file's label column, add rows of the missing classes, or hold "
                          f"out fewer rows with a smaller {setting('validation_size')}", field="data")


def describe_splits(splits: datasets.DatasetDict) -> dict:
    """Rows per split and per class, and where the test rows came from.

    Example: {"train": {"rows": 416, "per_class": {"World": 104, ...}}, ..., "test_origin": "..."}
    """
    summary = {}
    for name, rows in splits.items():
        counts = Counter(rows["label"])
        per_class = {class_name: counts[label] for label, class_name in enumerate(CLASS_NAMES)}
        summary[name] = {"rows": len(rows), "per_class": per_class}
    summary["test_origin"] = splits["test"].info.description or "the source's test split"
    return summary


def stratified_take(rows: datasets.Dataset, size, seed: int, field: str):
    """Split off `size` rows (a count, or a share below 1) keeping class shares.

    field: the setting that asked for them, or words for a share the package chose ("held-out test share").
    Returns (taken, rest). Example: 480 rows, size=64 -> (64 rows, 416 rows)
    """
    count = size if size >= 1 else round(size * len(rows))
    asked = setting(field, size) if field.isidentifier() else f"the {field} {size!r}"
    field = field if field.isidentifier() else "data"  # a share the package chose: the data is too small for it
    if count < NUM_CLASSES or count >= len(rows):
        raise AgNewsError(f"{asked} asks for {count} of {len(rows)} rows: use at least {NUM_CLASSES} (one per "
                          f"class) and fewer than {len(rows)}", field=field)
    try:
        parts = rows.train_test_split(test_size=int(count), stratify_by_column="label", seed=seed)
    except ValueError as error:
        raise AgNewsError(f"cannot split off {asked} with every class in it: {error}", field=field) from error
    return parts["test"], parts["train"]


def _take_training_rows(rest: datasets.Dataset, train_size, pool_rows: int, seed: int) -> datasets.Dataset:
    if train_size is None:
        return rest
    count = train_size if train_size >= 1 else round(train_size * pool_rows)
    if count > len(rest):
        raise AgNewsError(f"{setting('train_size', train_size)} asks for {count} rows but only {len(rest)} are "
                          f"left after holding out validation; lower {setting('train_size')} or "
                          f"{setting('validation_size')}", field="train_size")
    return rest if count == len(rest) else stratified_take(rest, count, seed, "train_size")[0]


def _read_pool_and_test(source: str, test_source: str | None, seed: int):
    source_splits = read_source(source)
    pool = source_splits["train"]
    if test_source is not None:
        test = read_test_rows(test_source)
        test.info.description = f"the separate test source {test_source}"
    elif "test" in source_splits:
        test = source_splits["test"]
        test.info.description = f"the test split of {source}"
    else:
        test, pool = stratified_take(pool, DEFAULT_HELD_OUT_TEST_SHARE, seed, "held-out test share")
        test.info.description = (f"{DEFAULT_HELD_OUT_TEST_SHARE:.0%} of {source}, held out (stratified, seed "
                                 f"{seed}) because it has no test split; pass test_source to use a real test set")
    return pool, test


def read_test_rows(source: str, field: str = "test_data") -> datasets.Dataset:
    """The rows of a separate test source: its test split, or all of it when it has none.

    field: the setting that named the source, for the error message.
    """
    splits = read_source(source, field)
    return splits["test"] if "test" in splits else splits["train"]


def read_source(source: str, field: str = "data") -> datasets.DatasetDict:
    """Any supported source as a DatasetDict with a train (and maybe a test) split.

    field: the setting that named the source, for the error message ("data" or "test_data").
    """
    source = resolve_data(source)
    path = Path(source).expanduser()
    if path.exists() or looks_like_a_path(source):
        return read_local_source(path, field)
    return _read_hub(source)


def _read_hub(dataset_id: str) -> datasets.DatasetDict:
    check_hub_reachable(dataset_id, "data set")
    try:
        loaded = datasets.load_dataset(dataset_id)
    except FileNotFoundError as error:  # datasets' DatasetNotFoundError: the Hub answered, no such id
        raise AgNewsError(f"no data set {dataset_id!r} on the Hugging Face Hub; check the id, or pass a local "
                          f"file as {setting('data')}", field="data") from error
    except (ConnectionError, OSError) as error:
        raise unreachable_error(dataset_id, "data set") from error
    except Exception as error:  # datasets raises several types for an unknown id
        raise AgNewsError(f"cannot load {dataset_id!r} from the Hub: {error}; check the data set id",
                          field="data") from error
    return datasets.DatasetDict({name: _as_agnews(rows, dataset_id) for name, rows in loaded.items()})


def _as_agnews(rows: datasets.Dataset, origin: str) -> datasets.Dataset:
    class_names = getattr(rows.features.get("label"), "names", None)
    if class_names not in (None, list(CLASS_NAMES)):
        raise AgNewsError(f"{origin} has classes {class_names}; expected {list(CLASS_NAMES)}", field="data")
    return table_rows(rows, rows.column_names, origin)


def _drop_texts_seen_in(pool: datasets.Dataset, test: datasets.Dataset) -> datasets.Dataset:
    test_texts = set(test["text"])
    kept = [index for index, text in enumerate(pool["text"]) if text not in test_texts]
    if not kept:
        raise AgNewsError(f"every training row also appears in the test data; pass a different "
                          f"{setting('test_data')}", field="test_data")
    return pool if len(kept) == len(pool) else pool.select(kept)
