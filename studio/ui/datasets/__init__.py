"""Datasets: the Dataset panel (pieces, statistics, problems) and folder import on a worker
thread. Installed by `dataset_feature`."""
