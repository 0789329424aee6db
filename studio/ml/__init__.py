"""Qt-free machine learning: model families, training, checkpoints, sampling, evaluation."""
