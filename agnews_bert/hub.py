"""Turning a failed download from the Hugging Face Hub into an actionable error.

Example:
    >>> hub_error("bert-base-uncased", "model", OSError("We couldn't connect")).args[0][:40]
    "cannot load the model 'bert-base-uncased"
"""

from .errors import AgNewsError

OFFLINE_HINTS = ("couldn't connect", "connection", "offline", "name or service not known", "network", "timed out")


def hub_error(name: str, what: str, error: Exception) -> AgNewsError:
    """An AgNewsError that says whether the Hub was unreachable or the name is wrong."""
    text = str(error).lower()
    if any(hint in text for hint in OFFLINE_HINTS):
        return AgNewsError(
            f"cannot load the {what} {name!r}: the Hugging Face Hub cannot be reached and it is not cached; "
            "connect to the network, pass a local model folder as model=..., or try preset='smoke'"
        )
    return AgNewsError(
        f"cannot load the {what} {name!r} ({str(error).splitlines()[0][:200]}); "
        "check the name on huggingface.co, or pass a local model folder"
    )
