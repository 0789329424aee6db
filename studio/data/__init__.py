"""Qt-free datasets: built-in corpora, folder import, cache, splits, augmentation, statistics.

`load_dataset(name)` gives a built-in corpus (`jsb`) or a dataset the user imported
(`import_folder`); `dataset_names()` lists them all, built-in ones first.
"""

from studio.data.builtin import BUILTIN, jsb_chorales
from studio.data.dataset import SPLITS, Dataset, Piece, split_for
from studio.data.errors import DatasetError, DatasetNotFound

__all__ = ["Dataset", "Piece", "SPLITS", "split_for", "jsb_chorales", "BUILTIN", "load_dataset",
           "dataset_names", "DatasetError", "DatasetNotFound"]


def load_dataset(name: str) -> Dataset:
    """A dataset by name: a built-in corpus (`jsb`) or one the user imported."""
    if name in BUILTIN:
        return BUILTIN[name]()
    from studio.data.store import DatasetStore

    store = DatasetStore()
    if store.exists(name) or name in store.names():
        return store.load(name)
    known = ", ".join([*BUILTIN, *store.names()])
    raise DatasetNotFound(f"no dataset named {name!r}; there are: {known}")


def dataset_names() -> list[str]:
    """Built-in datasets first, then the user's, by name."""
    from studio.data.store import DatasetStore

    return [*BUILTIN, *DatasetStore().names()]
