"""JSON files (config.json, results.json, remembered settings) are replaced whole or not at all.

A Colab runtime can vanish mid-write; the file on Drive must then still hold its
old contents, never half of the new ones.
"""

import json
import signal
import subprocess
import sys
import time

from agnews_bert.lab.folders import write_json_atomic

# Writes a large payload with write_json_atomic and stalls halfway through it: json asks
# the inner mapping for its items only after the 200 kB string before it was written out.
STALLED_WRITE = """
import pathlib, sys, time
from agnews_bert.lab.folders import write_json_atomic

class StallsHalfway(dict):
    def items(self):
        pathlib.Path(sys.argv[2]).write_text("mid-write")
        time.sleep(600)
        return super().items()

write_json_atomic(pathlib.Path(sys.argv[1]), {"a_first": "x" * 200_000, "b_then": StallsHalfway(k=1)})
"""


def test_a_kill_mid_write_leaves_the_old_file(tmp_path):
    target, ready = tmp_path / "folder" / "results.json", tmp_path / "ready"
    target.parent.mkdir()
    write_json_atomic(target, {"accuracy": 0.9})
    old_text = target.read_text(encoding="utf-8")

    writer = subprocess.Popen([sys.executable, "-c", STALLED_WRITE, str(target), str(ready)])
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert writer.poll() is None, "the writer ended before it reached the middle of the file"
        assert time.monotonic() < deadline, "the writer never reached the middle of the file"
        time.sleep(0.02)
    time.sleep(0.2)  # let the first 200 kB reach the disk
    sizes = {path.name: path.stat().st_size for path in target.parent.iterdir()}
    writer.send_signal(signal.SIGKILL)
    writer.wait()

    assert max(sizes.values()) >= 200_000, sizes  # the kill really came mid-write
    assert target.read_text(encoding="utf-8") == old_text
    assert json.loads(old_text) == {"accuracy": 0.9}


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "config.json"
    write_json_atomic(target, {"epochs": 1})
    write_json_atomic(target, {"epochs": 2, "note": "ü"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"epochs": 2, "note": "ü"}
    assert [path.name for path in tmp_path.iterdir()] == ["config.json"]
