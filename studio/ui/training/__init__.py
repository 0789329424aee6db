"""Training: the Training panel (set-up form, live curves, grid search, run history, model
library) and the training job on a worker thread. Installed by `training_feature`."""
