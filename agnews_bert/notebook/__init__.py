"""Notebook helpers: Colab and Drive, the settings form, the prediction box, plots and lessons.

- `colab`: smoke mode or Colab, Google Drive, the runtime report, the run-length estimate;
- `widgets`: the settings form (`settings_form`, `RunForm`);
- `inference_widget`: the box where students type headlines;
- `lessons`: small tables the notebooks show (TrainingArguments, whole texts, the runs);
- `compare`, `baseline`: notebook 02's models and methods side by side, and the TF-IDF baseline;
- `plots`, `attributions`, `embeddings`: the figures, word attributions and the embedding map.

They use the pipeline and the lab; nothing in the pipeline uses them. Names are imported on
first use, as `ab.notebook.output_dir()`.
"""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    **{name: f".colab:{name}" for name in (
        "environment_check", "runtime_report", "output_dir", "estimated_minutes", "download_run",
        "comparison_plan", "pick_run")},
    "settings_form": ".widgets:settings_form",
    "prediction_widget": ".inference_widget:prediction_widget",
    **{name: f".lessons:{name}" for name in (
        "training_args_table", "whole_texts", "runs_view", "loss_histories", "first_losses", "prediction_table")},
    "compare_models": ".compare:compare_models",
    "compare_methods": ".compare:compare_methods",
    "price_of_a_point": ".compare:price_of_a_point",
    "tfidf_baseline": ".baseline:tfidf_baseline",
    **{name: f".plots:{name}" for name in (
        "plot_learning_curves", "plot_training_loss", "plot_confusion_matrix", "plot_per_class", "plot_comparison",
        "plot_reliability", "plot_embedding_map")},
    "explain": ".attributions:explain",
    "explain_mistakes": ".attributions:explain_mistakes",
    "embedding_map": ".embeddings:embedding_map",
    "describe_splits": "..data:describe_splits",
    "check_max_length": "..tokenization:check_max_length",
    "token_length_summary": "..tokenization:token_length_summary",
    "count_parameters": "..modeling:count_parameters",
    "default_learning_rate": "..config:default_learning_rate",
    "confused_pairs": "..analysis:confused_pairs",
    "run_calibration": "..calibration:run_calibration",
})
