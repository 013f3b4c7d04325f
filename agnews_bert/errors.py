"""The package's one error type.

Everything a student can get wrong (a path, a hyperparameter, a label, a Hub
that cannot be reached) is raised as `AgNewsError` at the boundary where it
enters, with a one-line message that names the problem and the fix. Messages
name keyword arguments, as a notebook user writes them; the CLI prints the line
with those written as its flags (`lr=5e-5` -> `--lr 5e-5`, see `cli.in_flags`)
and exits with status 2; anything else is a bug in the package.

Example:
    >>> raise AgNewsError("lr=-1 must be above 0; try lr=5e-5")
    Traceback (most recent call last):
    ...
    agnews_bert.errors.AgNewsError: lr=-1 must be above 0; try lr=5e-5
"""


class AgNewsError(ValueError):
    """A problem with the user's input or environment, with the fix in its message."""


class TrainingInterrupted(AgNewsError):
    """Training was stopped by the user after saving a checkpoint; rerunning resumes it."""
