"""The Hugging Face Hub: one quick look before a download, and errors a student can act on.

When the Hub cannot be reached, transformers and datasets retry each file for
about a minute, printing a traceback per try, before they fail. So before a
name is fetched, `check_hub_reachable` tries the Hub once, with a short
timeout (an HTTP request to the endpoint, `HF_ENDPOINT` honoured, proxies as
the environment sets them): unreachable and not in the cache gives the one
line at once. A name in the cache, or offline mode (`HF_HUB_OFFLINE=1`), skips
the look and leaves the cache to the libraries.

Example:
    >>> hub_error("bert-base-uncased", "model", OSError("We couldn't connect")).args[0][:40]
    "cannot load the model 'bert-base-uncased"
"""

import functools
import os
import urllib.error
import urllib.request
from pathlib import Path

from .errors import AgNewsError, setting
from .smoke import SMOKE

OFFLINE_HINTS = ("couldn't connect", "connection", "offline", "name or service not known", "network", "timed out")
PROBE_SECONDS = 3
PATH_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet", ".arrow")
FIELDS = {"data set": "data", "model": "model", "tokenizer": "model"}  # the RunConfig field that names each


def looks_like_a_path(name: str) -> bool:
    """A name meant as a local path, not a Hub id. Example: "./my-checkpoint" -> True, "org/model" -> False"""
    return name.startswith((".", "/", "~")) or name.lower().endswith(PATH_SUFFIXES) or name.count("/") > 1


def hub_error(name: str, what: str, error: Exception) -> AgNewsError:
    """An AgNewsError that says whether the Hub was unreachable or the name is wrong."""
    text = str(error).lower()
    if any(hint in text for hint in OFFLINE_HINTS):
        return unreachable_error(name, what)
    return AgNewsError(f"cannot load the {what} {name!r} ({str(error).splitlines()[0][:200]}); "
                       "check the name on huggingface.co, or pass a local model folder", field=FIELDS.get(what))


def unreachable_error(name: str, what: str) -> AgNewsError:
    """The one line for a name that is neither reachable on the Hub nor cached.

    Example:
        >>> str(unreachable_error("fancyzhx/ag_news", "data set")).endswith("or data='smoke'")
        True
    """
    local = f"a local file as {setting('data')} (an AG News CSV), or {setting('data', SMOKE)}" \
        if what == "data set" else f"a local model folder as {setting('model')}, or try {setting('preset', SMOKE)}"
    return AgNewsError(f"cannot load the {what} {name!r}: the Hugging Face Hub cannot be reached and it is not "
                       f"cached; connect to the network, or pass {local}", field=FIELDS.get(what))


def check_hub_reachable(name: str, what: str) -> None:
    """Raise unreachable_error at once when the Hub cannot be reached and `name` is not cached.

    what: "model" or "data set".
    """
    if not (_offline_mode() or is_cached(name, what) or hub_is_reachable()):
        raise unreachable_error(name, what)


def check_hub_names(names: dict) -> None:
    """check_hub_reachable for each Hub name among `names` ({name: "model" or "data set"}); local ones are skipped.

    The command line calls this before it imports torch, so an unreachable Hub is
    reported in a second or two, not after the imports.
    Example: check_hub_names({"answerdotai/ModernBERT-base": "model", "smoke": "data set"})
    """
    for name, what in names.items():
        if name and name != SMOKE and not looks_like_a_path(name) and not Path(name).expanduser().exists():
            check_hub_reachable(name, what)


@functools.lru_cache(maxsize=1)  # one try per process: the model, the data and the test data share it
def hub_is_reachable(timeout: float = PROBE_SECONDS) -> bool:
    """True when the Hub's endpoint answers an HTTP request at all (any status) within `timeout` seconds."""
    try:
        from huggingface_hub import constants  # HF_ENDPOINT, as the libraries read it

        urllib.request.urlopen(urllib.request.Request(constants.ENDPOINT + "/", method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError:  # it answered, if only with an error status
        return True
    except (OSError, ValueError):  # refused, no route, no name, timed out, or a malformed HF_ENDPOINT
        return False
    return True


def is_cached(name: str, what: str) -> bool:
    """True when the Hugging Face cache holds a copy of the model or data set `name` (the hub cache layout)."""
    from huggingface_hub import constants  # the cache folder as the libraries find it (HF_HUB_CACHE, HF_HOME, ...)

    kind = "datasets" if what == "data set" else "models"
    return (Path(constants.HF_HUB_CACHE).expanduser() / f"{kind}--{name.replace('/', '--')}").is_dir()


def _offline_mode() -> bool:
    return any(os.environ.get(variable, "").upper() in ("1", "ON", "YES", "TRUE")
               for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"))
