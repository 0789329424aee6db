"""Qt-free machine learning: model families, training, checkpoints, sampling, evaluation.

Importing `studio.ml` itself loads nothing heavy; the modules are:

- `family`: the `Family` protocol every model family implements, `SamplingOptions`,
  `LossOutput`, `Examples`; `families/`: one module per family (discovered by `registry`).
- `registry`: `families()`, `model_names()`, `create_family(model, settings)`.
- `knobs`: `knob(...)` fields and `knobs_of(config)` (forms and CLI options are built from them).
- `train_config.TrainConfig`, `trainer.Trainer`, `callbacks` (reports, `TrainingCallback`,
  `TrainingControl`, `ThrottledCallback`), `loggers` (`ProgressBar`, `JsonlLog`).
- `checkpoint` (`save_checkpoint`, `load_checkpoint`, model cards), `train_state` (resume),
  `library` (shipped and user models), `grid` (grid search), `evaluate` and `ngram`
  (scores beside an n-gram baseline), `melody_tokens` and `satb_roll` (representations),
  `sampling` (temperature, top-k, top-p), `distributed` (DDP), `device`.
"""
