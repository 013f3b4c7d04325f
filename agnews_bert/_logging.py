"""The package's progress messages: the standard `logging` module, printed like `print`.

Every module logs to `logging.getLogger(__name__)`; this file gives the package's
logger, `agnews_bert`, one handler that writes each message as it is, to whatever
`sys.stdout` is at that moment, so a notebook cell, an ipywidgets `Output` or
pytest's `capsys` shows it. `logging.getLogger("agnews_bert").setLevel("WARNING")`
silences the progress lines; training does that on every process but the first.

Example:
    >>> import logging
    >>> logging.getLogger("agnews_bert.training").info("Data: train 120 rows")
    Data: train 120 rows
"""

import logging
import sys


class _CurrentStdout(logging.StreamHandler):
    """A handler whose stream is `sys.stdout` as it is when the message is written (any other is ignored)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _replaced):
        pass


def configure() -> logging.Logger:
    """Give the package's logger its one handler (again calls change nothing)."""
    logger = logging.getLogger("agnews_bert")
    if not any(isinstance(handler, _CurrentStdout) for handler in logger.handlers):
        logger.addHandler(_CurrentStdout())
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
