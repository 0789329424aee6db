"""Qt-free datasets: built-in corpora, folder import, cache, splits, augmentation, statistics."""

from studio.data.builtin import BUILTIN, jsb_chorales
from studio.data.dataset import SPLITS, Dataset, Piece, split_for

__all__ = ["Dataset", "Piece", "SPLITS", "split_for", "jsb_chorales", "BUILTIN", "load_dataset"]


def load_dataset(name: str) -> Dataset:
    """A dataset by name: a built-in corpus (`jsb`) or, once imported, a user dataset."""
    if name in BUILTIN:
        return BUILTIN[name]()
    raise KeyError(f"no dataset named {name!r}; built-in: {', '.join(BUILTIN)}")
