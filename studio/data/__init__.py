"""Qt-free datasets: built-in corpora, folder import, cache, splits, augmentation, statistics."""
