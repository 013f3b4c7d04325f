"""Readers for local AG News files, each returning the same two columns.

- the original AG News CSV: no header; class index 1-4, title, description;
  the text is title + " " + description, exactly as the Hub copy builds it;
- a table (CSV with a header, JSON Lines, Parquet) with `text` and `label`,
  where a label is an id 0-3 or a class name such as "Sci/Tech";
- a folder written by `save_to_disk`, or a folder holding train.* and test.*.

Every row is checked, and the first bad one is reported with its line number.
The files are parsed here rather than with `datasets.load_dataset`, whose parse
errors name neither the line nor the fix (tests/test_data.py shows one).

Example:
    >>> read_local_source("agnews_bert/resources/smoke/test.csv")["train"].num_rows
    160
"""

import csv
import io
import json
from pathlib import Path

import datasets

from .errors import AgNewsError, setting
from .labels import CLASS_NAMES, NUM_CLASSES, label_id_from_name

FEATURES = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(CLASS_NAMES))})
TABLE_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")
MAX_TEXT_CHARS = 20_000


def read_local_source(path, field: str = "data") -> datasets.DatasetDict:
    """Read a local file or folder into a DatasetDict with a train (and maybe test) split.

    field: the setting that named the path ("data" or "test_data"), for the error message.
    """
    path = Path(path).expanduser()
    if not path.exists():
        hint = f", or use {setting('data', 'smoke')}" if field == "data" else ""
        raise AgNewsError(f"{setting(field, str(path))} does not exist; check the path{hint}", field=field)
    return _read_folder(path) if path.is_dir() else datasets.DatasetDict(train=read_file(path))


def read_file(path: Path) -> datasets.Dataset:
    """One file of rows, in any supported format, as text + label."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise AgNewsError(f"{path.name} is not a supported file: use .csv, .jsonl, .json or .parquet")
    if suffix == ".parquet":
        return _read_parquet(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise AgNewsError(f"{path.name} is not UTF-8 text ({error.reason}); re-save it as UTF-8") from error
    except PermissionError as error:
        raise AgNewsError(f"{path} cannot be read (permission denied); check its permissions") from error
    return _read_csv_text(text, path.name) if suffix == ".csv" else _read_json_lines(text, path.name)


def _read_folder(folder: Path) -> datasets.DatasetDict:
    if (folder / "dataset_dict.json").exists() or (folder / "state.json").exists():
        return _read_saved(folder)
    splits = {}
    for split in ("train", "test"):
        files = [folder / f"{split}{suffix}" for suffix in TABLE_SUFFIXES if (folder / f"{split}{suffix}").exists()]
        if files:
            splits[split] = read_file(files[0])
    if "train" not in splits:
        raise AgNewsError(f"folder {folder} holds no data set: expected a save_to_disk folder, or train.csv "
                          "(and test.csv)")
    return datasets.DatasetDict(splits)


def _read_saved(folder: Path) -> datasets.DatasetDict:
    loaded = datasets.load_from_disk(str(folder))
    if isinstance(loaded, datasets.Dataset):
        loaded = datasets.DatasetDict(train=loaded)
    if "train" not in loaded:
        raise AgNewsError(f"{folder} has splits {list(loaded)}; it needs a 'train' split")
    return datasets.DatasetDict({split: table_rows(rows, rows.column_names, f"{folder.name}/{split}")
                                 for split, rows in loaded.items()})


def table_rows(table, column_names: list, name: str) -> datasets.Dataset:
    """The checked rows of a table (a Dataset, or a dict of columns) that has `text` and `label` columns."""
    if not {"text", "label"} <= set(column_names):
        raise AgNewsError(f"{name} has columns {column_names}; it needs 'text' and 'label'")
    return build_dataset(table["text"], table["label"], name, first_line=0)


def _read_csv_text(text: str, name: str) -> datasets.Dataset:
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as error:
        raise AgNewsError(f"{name} is not a readable CSV file ({error})") from error
    if not rows:
        raise AgNewsError(f"{name} is empty; it needs rows of AG News text and labels")
    header = [cell.strip().lower() for cell in rows[0]]
    if "text" not in header or "label" not in header:
        return _read_original_rows(rows, name)
    cells = [[row[header.index(column)] if header.index(column) < len(row) else None for row in rows[1:]]
             for column in ("text", "label")]
    return build_dataset(*cells, name, first_line=2)


def _read_original_rows(rows: list, name: str) -> datasets.Dataset:
    for line, row in enumerate(rows, start=1):
        if len(row) != 3:
            raise AgNewsError(f"{name} line {line} has {len(row)} column(s): expected the original AG News format "
                              "(3 columns: class 1-4, title, description) or a header with 'text' and 'label' columns")
        if row[0].strip() not in {"1", "2", "3", "4"}:
            classes = ", ".join(f"{number} {class_name}" for number, class_name in enumerate(CLASS_NAMES, start=1))
            raise AgNewsError(f"{name} line {line} has class {row[0]!r} in its first column: expected the original "
                              f"AG News format, which numbers the classes 1-4 ({classes})")
    return build_dataset([f"{row[1]} {row[2]}" for row in rows], [int(row[0]) - 1 for row in rows], name, 1)


def _read_json_lines(text: str, name: str) -> datasets.Dataset:
    texts, labels = [], []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise AgNewsError(f"{name} line {line} is not JSON ({error.msg}); write one object per line") from error
        if not isinstance(record, dict) or "text" not in record or "label" not in record:
            raise AgNewsError(f"{name} line {line} needs an object with 'text' and 'label' keys")
        texts.append(record["text"])
        labels.append(record["label"])
    return build_dataset(texts, labels, name, first_line=1)


def _read_parquet(path: Path) -> datasets.Dataset:
    import pyarrow.parquet as parquet

    try:
        columns = parquet.read_table(path).to_pydict()
    except Exception as error:  # pyarrow raises its own types for a damaged file
        raise AgNewsError(f"{path.name} is not a readable Parquet file ({error})") from error
    return table_rows(columns, list(columns), path.name)


def build_dataset(texts, labels, name: str, first_line: int) -> datasets.Dataset:
    """Check every row (text a non-empty string, label 0-3 or a class name) and build the Dataset.

    first_line is the line number of the first row in the file, for the error message (0: count rows from 0).
    """
    if not len(texts):
        raise AgNewsError(f"{name} has no data rows; it needs AG News texts with labels")
    label_ids = [_checked_label_id(text, label, f"{name} row {offset + first_line}")
                 for offset, (text, label) in enumerate(zip(texts, labels))]
    return datasets.Dataset.from_dict({"text": list(texts), "label": label_ids}, features=FEATURES)


def _checked_label_id(text, label, where: str) -> int:
    """Check one row's text and return its label's id; `where` names the row for the message."""
    if not isinstance(text, str):
        raise AgNewsError(f"{where} has a text of type {type(text).__name__}; every text must be a string")
    if not text.strip():
        raise AgNewsError(f"{where} has an empty text; remove the row or fill in its text")
    if len(text) > MAX_TEXT_CHARS:
        raise AgNewsError(f"{where} has a text of {len(text):,} characters (the limit is {MAX_TEXT_CHARS:,}); "
                          "AG News texts are a headline and a sentence or two: check the file's columns")
    found = None
    if isinstance(label, str):
        stripped = label.strip()
        found = int(stripped) if stripped.isascii() and stripped.isdigit() else label_id_from_name(stripped)
    elif isinstance(label, (int, float)) and not isinstance(label, bool) and float(label).is_integer():
        found = int(label)
    if found is None or not 0 <= found < NUM_CLASSES:
        raise AgNewsError(f"{where} has label {label!r}; use 0-{NUM_CLASSES - 1} or a class name "
                          f"({', '.join(CLASS_NAMES)})")
    return found
