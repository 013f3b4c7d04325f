"""Run bookkeeping: what agnews_bert adds around the Hugging Face Trainer so a run survives.

- `folders`: where a run lives (`<output_dir>/<run_name>/`), its config.json and results.json,
  the runs index and `runs_table`;
- `checkpoints`: trustworthy checkpoints, resume, a stop that saves, the Drive mirror;
- `resilience`: the stop-and-save callback, the training clock and the out-of-memory retry;
- `nan_guard`: `NonFiniteGuard`, the callback that stops at the first nan loss;
- `saving`: `save_run`, the model, JSON files and index row of a finished run;
- `lock`: one writer per run folder, and taking over the lock of a killed run;
- `model_card`, `sharing`: the model card every saved run gets, and `push_to_hub`.

In a notebook these lines read `ab.lab.…`, so a student can tell our bookkeeping from the
Hugging Face calls. Names are imported on first use: `agnews-bert runs` needs no torch.
"""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "is_finished": ".folders:is_finished",
    "prepare_run_dir": ".folders:prepare_run_dir",
    "load_results": ".folders:load_results",
    "runs_table": ".folders:runs_table",
    "resume_checkpoint": ".checkpoints:resume_checkpoint",
    "saving_on_stop": ".checkpoints:saving_on_stop",
    "load_finished_run": ".checkpoints:load_finished_run",
    "NonFiniteGuard": ".nan_guard:NonFiniteGuard",
    "collect_results": "..training:collect_results",
    "save_run": ".saving:save_run",
})
