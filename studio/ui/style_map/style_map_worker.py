"""Running the analysis off the GUI thread: one task at a time, with progress and cancel.

`AnalysisTaskRunner.start(fn)` runs `fn(progress, cancelled)` as a job of the studio's
`JobRunner` (studio.ui.jobs), where `progress(fraction, text)` reports (forwarded as a signal at
most about 10 times a second) and `cancelled()` tells the task to stop (the Qt-free analysis
functions check it between steps and raise `AnalysisCancelled`). Starting a task cancels the one
before; `shutdown()` cancels and waits, so no QThread is ever destroyed while it runs.
"""

from __future__ import annotations

from collections.abc import Callable

from studio.ml.analysis.errors import AnalysisCancelled
from studio.ui.jobs import JobRunner

TaskFn = Callable[[Callable[[float, str], None], Callable[[], bool]], object]


class AnalysisTaskRunner(JobRunner):
    """Runs one analysis task at a time on a worker thread: `progress(fraction, text)`,
    `finished(result)`, `failed(message)`, `cancelled()`, `running_changed(bool)`."""

    cancel_errors = (AnalysisCancelled,)
    shutdown_wait_ms = 30_000

    def start(self, fn: TaskFn) -> None:
        """Run `fn` on a fresh thread, cancelling any task still running."""
        self.start_job(lambda thread: fn(thread.report, thread.stop_requested))
