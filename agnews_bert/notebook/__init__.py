"""Notebook helpers: Colab and Drive, the settings form, the prediction box, plots and lessons.

- `colab`: Colab or not, Google Drive, the environment check and the runtime report;
- `widgets`: the settings form (`settings_form`, `RunForm`), its starting config, the run-length estimate;
- `inference_widget`: the box where students type headlines;
- `lessons`: small tables the notebooks show (TrainingArguments, whole texts, the runs);
- `compare`, `baseline`: notebook 02's plan, its models and methods side by side, and the TF-IDF baseline;
- `plots`, `attributions`, `embeddings`: the figures, word attributions and the embedding map.

They use the pipeline and the lab; nothing in the pipeline uses them. Names are imported on
first use, as `ab.notebook.output_dir()`.
"""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    **{name: f".colab:{name}" for name in ("environment_check", "runtime_report", "output_dir", "download_run")},
    **{name: f".widgets:{name}" for name in ("settings_form", "estimated_minutes")},
    "prediction_widget": ".inference_widget:prediction_widget",
    **{name: f".lessons:{name}" for name in (
        "training_args_table", "whole_texts", "runs_view", "loss_histories", "first_losses", "prediction_table")},
    **{name: f".compare:{name}" for name in (
        "comparison_plan", "compare_models", "compare_methods", "price_of_a_point")},
    "tfidf_baseline": ".baseline:tfidf_baseline",
    **{name: f".plots:{name}" for name in (
        "plot_learning_curves", "plot_training_loss", "plot_confusion_matrix", "plot_per_class", "plot_comparison",
        "plot_reliability", "plot_embedding_map")},
    **{name: f".attributions:{name}" for name in ("explain", "explain_mistakes")},
    "embedding_map": ".embeddings:embedding_map",
    "describe_splits": "..data:describe_splits",
    "check_max_length": "..tokenization:check_max_length",
    "token_length_summary": "..tokenization:token_length_summary",
    "count_parameters": "..modeling:count_parameters",
    "default_learning_rate": "..config:default_learning_rate",
    "confused_pairs": "..analysis:confused_pairs",
    "run_calibration": "..calibration:run_calibration",
})
