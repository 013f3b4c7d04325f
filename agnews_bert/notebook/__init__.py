"""Notebook helpers: Colab set-up, the settings form, the prediction box, notebook 02's comparison.

- `colab`: smoke mode or Colab, Google Drive, the runtime report, the starting
  config for this hardware and the run-length estimate;
- `widgets`: the settings form (`settings_form`, `RunForm`);
- `inference_widget`: the box where students type headlines;
- `lessons`: small tables the notebooks show (TrainingArguments, whole texts);
- `compare`, `baseline`: notebook 02's models side by side, and the TF-IDF baseline.

They use the pipeline; nothing in the pipeline uses them.
"""
