"""The errors of the ML engine: each carries a message a musician can act on.

Every error the engine raises on purpose derives from `StudioMLError`; the command line prints its
message as one line and the panels show it as it is (both ask `user_message`, the one place that
says which exceptions are the user's to fix). Anything else escaping the engine is a bug.
"""

from __future__ import annotations


class StudioMLError(Exception):
    """A problem with the user's data, settings or model files, explained in plain words."""

    user_facing = True


class ConfigError(StudioMLError):
    """A setting out of its range, of the wrong type, or unknown to the model family."""


class UnknownModelError(StudioMLError):
    """No model family of that name, or no model of that name in the library."""


class DatasetTooSmallError(StudioMLError):
    """Empty dataset or split, or no piece as long as the model's window."""


class NonFiniteLossError(StudioMLError):
    """The loss became NaN or infinite: training diverged."""


class TrainingOutOfMemoryError(StudioMLError):
    """The device ran out of memory for this model and batch size."""


class DeviceLostError(StudioMLError):
    """The GPU failed or disappeared mid-run; the last checkpoint is kept for a resume."""


class TrainingCancelled(StudioMLError):
    """Raised by a callback (or the control) to stop a run; the trainer stops cleanly."""


class CheckpointError(StudioMLError):
    """A model file that is missing, unreadable, tampered with, or does not match its card."""


class WrongFamilyError(CheckpointError):
    """A checkpoint of another model family than the one asked for."""


class GenerationError(StudioMLError):
    """A generation request the model cannot serve (range, length, mode)."""


class ModelUnavailableError(GenerationError):
    """The model file is missing, unreadable, tampered with, or not in the library."""


def is_unreadable_piece(error: BaseException) -> bool:
    """Whether building a piece's song failed for a reason of that piece (a bad or missing
    file): encoders skip such pieces and count them instead of stopping."""
    from studio.midi.errors import MidiReadError

    return isinstance(error, (MidiReadError, OSError)) or getattr(error, "user_facing", False)


def user_message(error: BaseException) -> str | None:
    """The message to show for a user error (bad file, setting, model or dataset, as one line),
    None for a bug (show the traceback). Shared by the command line and the window."""
    from studio.data.errors import DatasetError
    from studio.midi.errors import MidiReadError, MidiWriteError

    user_errors = (MidiReadError, MidiWriteError, FileNotFoundError, PermissionError,
                   StudioMLError, DatasetError)
    if isinstance(error, user_errors) or getattr(error, "user_facing", False):
        return str(error)
    return None
