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

__getattr__, __dir__, __all__ = lazy_exports(__name__, {name: f"{module}:{name}" for module, names in {
    ".colab": ("environment_check", "runtime_report", "output_dir", "download_run"),
    ".widgets": ("settings_form", "estimated_minutes"),
    ".inference_widget": ("prediction_widget",),
    ".lessons": ("training_args_table", "whole_texts", "runs_view", "loss_histories", "first_losses",
                 "prediction_table"),
    ".compare": ("comparison_plan", "compare_models", "compare_methods", "price_of_a_point"),
    ".baseline": ("tfidf_baseline",),
    ".plots": ("plot_learning_curves", "plot_training_loss", "plot_confusion_matrix", "plot_per_class",
               "plot_comparison", "plot_reliability", "plot_embedding_map"),
    ".attributions": ("explain", "explain_mistakes"),
    ".embeddings": ("embedding_map",),
    "..data": ("describe_splits",),
    "..tokenization": ("check_max_length", "token_length_summary"),
    "..modeling": ("count_parameters",),
    "..config": ("default_learning_rate",),
    "..analysis": ("confused_pairs",),
    "..calibration": ("run_calibration",),
}.items() for name in names})
