"""One writer per run folder: a lock held from `prepare_run_dir` to `save_run`.

Two trainings in one run folder damage each other: the second one's
`resume=False` deletes the first one's checkpoints mid-run, and each saves over
the other. So a run takes the folder's lock before it writes anything, and a
second writer is refused at once, told who holds it (pid, host, start time).

Design choices:
- The lock is filelock's `FileLock` (an OS lock, `flock`) on
  `<output_dir>/.<run_name>.lock`. The operating system drops it when its
  process dies, SIGKILL included, so a killed run never blocks the next one.
- It sits beside the run folder, not inside it: `resume=False` and
  `overwrite=True` remove or rename the folder, and must not remove the lock.
- Beside the lock, the holder writes an owner note (`.<run_name>.owner.json`),
  and removes it when it lets go. A note found by the next holder was left by
  a run that was killed: the lock is taken over, with a line saying so.
- One process asking again for a lock it holds (a notebook cell run twice)
  gets it: the lock is per process, not per call.
- Waiting is never done (timeout 0): in a notebook a second tab gets a clear
  message instead of a cell that hangs.

Example:
    >>> import tempfile
    >>> run_dir = Path(tempfile.mkdtemp()) / "my-run"
    >>> acquire_run_lock(run_dir)
    >>> read_owner(run_dir)["pid"] == os.getpid()
    True
    >>> release_run_lock(run_dir)
    >>> read_owner(run_dir) is None
    True
"""

import logging
import os
import socket
import time
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import AgNewsError, setting

log = logging.getLogger(__name__)
_held: dict = {}  # lock file -> FileLock, for the locks this process holds
OWNER = ".owner.json"  # who holds the lock: pid, host, start time. Example: runs/my-run -> runs/.my-run.owner.json


def lock_file_for(run_dir, suffix: str = ".lock") -> Path:
    """The lock file of a run folder, or another hidden file beside it. Example: runs/my-run -> runs/.my-run.lock"""
    run_dir = Path(run_dir).expanduser().absolute()
    return run_dir.parent / f".{run_dir.name}{suffix}"


def acquire_run_lock(run_dir) -> None:
    """Take the run folder's lock, or raise AgNewsError naming the run that holds it.

    A lock left by a killed run is taken over, with a line saying so.
    """
    from .folders import write_json_atomic  # folders imports this module

    lock_file = lock_file_for(run_dir)
    if lock_file in _held:
        return
    lock = FileLock(str(lock_file), timeout=0)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:  # before OSError: filelock's Timeout is one
        raise AgNewsError(
            f"run folder {Path(run_dir)} is in use by another training run ({describe_owner(read_owner(run_dir))}); "
            f"wait for it to finish or stop it, or pass {setting('run_name')} to train in another folder",
            field="run_name") from None
    except OSError as error:
        raise AgNewsError(f"cannot create the run folder's lock {lock_file} ({error.strerror or error}); choose "
                          f"another {setting('output_dir')}", field="output_dir") from error
    except NotImplementedError:  # filelock on a disk without flock (some network mounts): go on, unlocked
        log.warning(f"Note: {lock_file.parent} cannot hold a file lock, so nothing stops a second run in "
                    f"{Path(run_dir).name} at the same time; start only one")
        return
    _held[lock_file] = lock
    if (left_behind := read_owner(run_dir)) is not None:
        log.warning(f"Note: taking over the lock of {Path(run_dir).name}, left by a run that was stopped without "
                    f"releasing it ({describe_owner(left_behind)}); that run is no longer running")
    write_json_atomic(lock_file_for(run_dir, OWNER), {
        "pid": os.getpid(), "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})


def release_run_lock(run_dir) -> None:
    """Let go of the run folder's lock, if this process holds it; the owner note goes first."""
    if (lock := _held.pop(lock_file_for(run_dir), None)) is not None:
        lock_file_for(run_dir, OWNER).unlink(missing_ok=True)
        lock.release()


def read_owner(run_dir) -> dict | None:
    """The owner note of a run folder's lock; None when there is none (or it is unreadable)."""
    from .folders import json_or_none

    return json_or_none(lock_file_for(run_dir, OWNER))


def describe_owner(owner: dict | None) -> str:
    """Example: {"pid": 4242, "host": "colab", "started": "2026-12-02 00:31:05 UTC"}
    -> "pid 4242 on colab, started 2026-12-02 00:31:05 UTC" """
    return (f"pid {owner.get('pid')} on {owner.get('host')}, started {owner.get('started')}" if owner
            else "a process that is just starting")

