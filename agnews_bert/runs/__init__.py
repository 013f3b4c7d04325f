"""Run bookkeeping: run folders and the runs index, saving a finished run, checkpoints and resume.

- `folders`: where a run lives (`<output_dir>/<run_name>/`), its config.json and
  results.json, the runs index and `runs_table`; its names are re-exported here,
  so `from agnews_bert.runs import runs_table` works;
- `saving`: `save_run`, the model, JSON files and index row of a finished run;
- `checkpoints`: trustworthy checkpoints, resume, a stop that saves, the Drive mirror;
- `resilience`: the stop-and-save callback, the training clock and the out-of-memory retry;
- `lock`: one writer per run folder, and taking over the lock of a killed run;
- `model_card`: the model card (model/README.md) every saved run gets;
- `sharing`: `push_to_hub`, a finished run's model folder uploaded to the Hub.

Only `folders` is imported here: it needs no torch, so `agnews-bert runs` starts fast.
"""

from .folders import (  # noqa: F401
    CHECKPOINTS_DIR, CONFIG_FILE, INDEX_FILE, MODEL_DIR, RESULTS_FILE, is_main_process, run_dir_for, is_finished,
    check_output_dir,
    refuse_finished_run, prepare_run_dir, replaced_dir_for, restore_replaced_run,
    refuse_other_settings, write_json_atomic, read_json, load_run_config, load_results,
    append_to_index, read_index, runs_table
)
