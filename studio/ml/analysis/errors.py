"""The analysis tools' user-facing errors: bad input is told in one clear sentence, never a crash.

`AnalysisError` marks input the musician can fix (one class only, too few pieces for the folds,
pieces without notes, an unknown dataset); the CLI prints it as one line and the UI shows it in a
message. `AnalysisCancelled` ends long work when the user cancels.
"""

from __future__ import annotations


class AnalysisError(ValueError):
    """Input the analysis cannot use, with a message that says what to change."""

    user_facing = True


class AnalysisCancelled(Exception):
    """Raised between steps of long analysis work when the cancel flag is set."""

    user_facing = True

    def __init__(self, message: str = "analysis cancelled") -> None:
        super().__init__(message)
