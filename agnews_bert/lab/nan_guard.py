"""Stop a run whose loss or validation scores stop being numbers, and never keep such an epoch.

Models pretrained in bf16 (ModernBERT is one) can overflow when they are
fine-tuned in fp16, the only 16-bit path of Colab's T4: the loss becomes `nan`
or `inf`, and every step after it is wasted. The Trainer does not stop by
itself, and by default it even hides such losses from its log
(`logging_nan_inf_filter`, which `build_training_args` turns off so the guard
sees them).

`NonFiniteGuard` is a `TrainerCallback`. On the first non-finite training
loss or validation metric it stops training, saves no checkpoint from then on
(so the last checkpoint on disk is a finite one), and gives the epoch the
worst possible score, so `load_best_model_at_end` never picks it. In the
notebook, which calls `trainer.train()` itself, it logs one line naming the
fix. `ab.train` (training.fit) goes further: it continues from the last
finite checkpoint in fp32, says so itself (it sets the guard's `announce` off),
and `results.json` records that under `precision_fallback`.

Example:
    >>> guard = NonFiniteGuard()
    >>> guard.problem is None
    True
    >>> stop_message({"step": 12, "what": "training loss", "value": "nan", "precision": "fp32"}).split(", so")[0]
    'Training stopped at step 12: the training loss is nan in fp32'
"""

import logging
import math
from dataclasses import replace
from pathlib import Path

import transformers

from ..errors import AgNewsError, setting
from ..scoring import precision_of

log = logging.getLogger(__name__)


class NonFiniteGuard(transformers.TrainerCallback):
    """Stops training at the first nan/inf training loss or validation metric; `problem` says where."""

    announce = True  # log the stop and its fix (training.fit turns it off and says what it does instead)
    problem = None  # e.g. {"step": 12, "what": "training loss", "value": "nan", "precision": "fp16"}
    fallback = None  # set by training.fit on the trainer that continued in fp32

    def on_log(self, args, state, control, logs=None, **kwargs):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self._trip(args, state, control, "training loss", loss)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        bad = next(((name, value) for name, value in (metrics or {}).items()
                    if isinstance(value, float) and not math.isfinite(value)), None)
        if bad is None:
            return
        self._trip(args, state, control, f"validation {bad[0].removeprefix('eval_')}", bad[1])
        best = f"eval_{(args.metric_for_best_model or '').removeprefix('eval_')}"
        if best in metrics:  # the trainer reads this dict next, to pick the best epoch
            metrics[best] = -math.inf if args.greater_is_better else math.inf

    def on_step_end(self, args, state, control, **kwargs):
        """Once tripped: stop, and evaluate and save nothing more (the last checkpoint stays finite)."""
        if self.problem is not None:
            control.should_training_stop = True
            control.should_save = False
            control.should_evaluate = False

    on_epoch_end = on_step_end

    def _trip(self, args, state, control, what: str, value) -> None:
        if self.problem is None:
            self.problem = {"step": state.global_step, "what": what, "value": str(value),
                            "precision": precision_of(args)}
            if self.announce:
                log.warning(stop_message(self.problem))
        self.on_step_end(args, state, control)


def stop_message(problem: dict) -> str:
    """The notebook's one line. Example: "Training stopped at step 12: the training loss is nan in fp16 ..." """
    where = f"Training stopped at step {problem['step']}: the {problem['what']} is {problem['value']}"
    if problem["precision"] != "fp32":
        return (f"{where} in {problem['precision']} mixed precision, which can overflow with models pretrained "
                f"in bf16 (ModernBERT is one). Set precision to fp32 ({setting('precision', 'fp32')}) and train again; "
                "ab.train does that by itself, from the last finite checkpoint.")
    return (f"{where} in fp32, so the learning rate is most likely too high: lower lr (say to a tenth) and "
            f"train again, with {setting('overwrite', True)}.")


def fp32_fallback(config, problem: dict, run_dir):
    """The config that continues a run stopped by the guard: fp32, resumed from the last finite checkpoint.

    Already in fp32 there is nothing to fall back to: raises AgNewsError naming the fix.
    Returns (config, record); the record goes into results.json as `precision_fallback`.
    """
    if problem["precision"] == "fp32":
        raise AgNewsError(stop_message(problem).replace("Training stopped", "training stopped", 1), field="lr")
    log.warning(f"The {problem['what']} became {problem['value']} at step {problem['step']} in "
                f"{problem['precision']} mixed precision: continuing in fp32 from the last finite checkpoint (slower, "
                "but it cannot overflow). results.json records this under precision_fallback.")
    record = {"from": problem["precision"], "to": "fp32", **{key: problem[key] for key in ("step", "what", "value")}}
    return replace(config, precision="fp32", resume=True, run_name=Path(run_dir).name), record


def guard_of(trainer) -> NonFiniteGuard | None:
    """The trainer's NonFiniteGuard, or None."""
    return next((callback for callback in trainer.callback_handler.callbacks
                 if isinstance(callback, NonFiniteGuard)), None)
