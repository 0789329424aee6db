"""The exceptions of the dataset layer: user errors, printed as one line by the CLI and shown as a
message box by the panel."""

from __future__ import annotations


class DatasetError(Exception):
    """Something the user can fix: a missing dataset, a bad name, a folder that does not exist."""

    user_facing = True


class DatasetNotFound(DatasetError, KeyError):
    """No dataset with this name (a KeyError too, for code that catches that)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "no such dataset"
