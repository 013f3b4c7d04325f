"""The package's one error type, and how its messages name a setting.

Everything a student can get wrong (a path, a hyperparameter, a label, a Hub
that cannot be reached) is raised as `AgNewsError` at the boundary where it
enters, with a one-line message that names the problem and the fix, and with
the `RunConfig` field it is about as data. A message names a setting through
`setting`, which writes it as a notebook user types it (`lr=5e-5`) or, inside
`flag_style()` (the CLI), as the command's flag (`--lr 5e-5`). The CLI prints
the line and exits with status 2; anything else is a bug in the package.

Example:
    >>> error = AgNewsError(f"{setting('lr', -1)} must be above 0", field="lr")
    >>> error.field, str(error)
    ('lr', 'lr=-1 must be above 0')
    >>> with flag_style():
    ...     setting("lr", -1), setting("resume", False), setting("overwrite", True)
    ('--lr -1', '--no-resume', '--overwrite')
"""

import contextlib
import contextvars

_AS_FLAGS = contextvars.ContextVar("agnews_bert_as_flags", default=False)


class AgNewsError(ValueError):
    """A problem with the user's input or environment, with the fix in its message.

    `field` names the `RunConfig` field (or keyword argument) the problem is about, or is None.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class TrainingInterrupted(AgNewsError):
    """Training was stopped by the user after saving a checkpoint; rerunning resumes it."""


def setting(name: str, value=...) -> str:
    """`name` set to `value` as the user writes it here: `lr=5e-5`, or `--lr 5e-5` in the CLI.

    `...` leaves the value to the user (`run_name=...`, `--run-name ...`); a bool in the
    CLI is the switch (`--overwrite`, `--no-resume`).

    Example:
        >>> setting("run_name"), setting("model_name", "bert-base-uncased")
        ('run_name=...', "model_name='bert-base-uncased'")
    """
    if not _AS_FLAGS.get():
        return f"{name}={'...' if value is ... else repr(value)}"
    if isinstance(value, bool):
        return flag_name(name if value else f"no_{name}")
    return f"{flag_name(name)} {'...' if value is ... else value}"


def flag_name(name: str) -> str:
    """The command-line flag of a RunConfig field. Example: "batch_size" -> "--batch-size" """
    return "--" + name.replace("_", "-")


@contextlib.contextmanager
def flag_style():
    """Inside this block, `setting` writes command-line flags (the CLI's `main` uses it)."""
    token = _AS_FLAGS.set(True)
    try:
        yield
    finally:
        _AS_FLAGS.reset(token)
