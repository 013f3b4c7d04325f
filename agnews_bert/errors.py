"""The package's one error type, and how a message names a setting.

Everything a student can get wrong (a path, a hyperparameter, a label, a Hub
that cannot be reached) is raised as `AgNewsError` at the boundary where it
enters, with a one-line message that names the problem and the fix, and with
the setting it is about as data (`error.field`). The CLI prints the line and
exits with status 2; anything else is a bug in the package.

A message names a setting through `setting(name, value)`: as a keyword in a
notebook (`lr=5e-05`), as a flag under the command line (`--lr 5e-05`), which
turns the flag wording on for the length of a command with `worded_as_flags`.

Example:
    >>> str(AgNewsError(f"{setting('lr', -1)} must be above 0", field="lr"))
    'lr=-1 must be above 0'
    >>> with worded_as_flags():
    ...     setting("lr", -1), setting("resume", False), setting("run_name")
    ('--lr -1', '--no-resume', '--run-name ...')
"""

import contextlib
import contextvars
import shlex

_AS_FLAGS = contextvars.ContextVar("agnews_bert_settings_as_flags", default=False)
_NO_VALUE = object()


class AgNewsError(ValueError):
    """A problem with the user's input or environment, with the fix in its message.

    field: the setting (a RunConfig field or a keyword argument) the problem is about, if any.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class TrainingInterrupted(AgNewsError):
    """Training was stopped by the user after saving a checkpoint; rerunning resumes it."""


def setting(name: str, value=_NO_VALUE) -> str:
    """A setting as the user sets it here: `lr=5e-05` (Python) or `--lr 5e-05` (command line).

    Without a value it stands for "some value": `run_name=...` or `--run-name ...`.
    """
    if not _AS_FLAGS.get():
        return f"{name}=..." if value is _NO_VALUE else f"{name}={value!r}"
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else "--no-" + flag[2:]
    return f"{flag} ..." if value is _NO_VALUE else f"{flag} {shlex.quote(str(value))}"


@contextlib.contextmanager
def worded_as_flags():
    """Within the block, `setting` words settings as command-line flags."""
    token = _AS_FLAGS.set(True)
    try:
        yield
    finally:
        _AS_FLAGS.reset(token)
