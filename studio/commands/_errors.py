"""Which exceptions are user errors (printed as one line) rather than bugs (tracebacks)."""

from __future__ import annotations


def describe(error: Exception) -> str | None:
    from studio.midi.errors import MidiReadError, MidiWriteError

    user_errors: tuple[type[BaseException], ...] = (MidiReadError, MidiWriteError,
                                                    FileNotFoundError, PermissionError)
    try:
        from studio.ml.errors import StudioMLError  # present once the ML engine exists

        user_errors += (StudioMLError,)
    except ImportError:
        pass
    try:
        from studio.data.errors import DatasetError

        user_errors += (DatasetError,)
    except ImportError:
        pass
    if isinstance(error, user_errors) or getattr(error, "user_facing", False):
        return str(error)
    return None
