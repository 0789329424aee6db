"""Running generation off the GUI thread: one request at a time, candidates as they arrive,
progress, cancel.

`GenerationRunner.start(request)` runs `studio.ml.generation.generate` as a job of the studio's
`JobRunner` (studio.ui.jobs). Each candidate crosses to the GUI thread as soon as the core hands
it over (`candidate_ready`), so the first variation is listed before the others are done;
progress arrives at most about ten times a second. Starting a run cancels the one before (its
late candidates are dropped); `shutdown()` cancels and waits, so no QThread is ever destroyed
while it runs. The request's song is a copy nobody else touches.
"""

from __future__ import annotations

from PySide6.QtCore import SignalInstance

from studio.ui.jobs import JobRunner, JobThread


class GenerationRunner(JobRunner):
    """Owns the generation threads of one panel. Signals come only from the current run:
    `candidate_ready(Candidate)`, `progress(fraction, text)`, `finished(list)` (every candidate
    of the run), `failed(message)`, `cancelled()`, `running_changed(bool)`."""

    unexpected = "Generation failed unexpectedly"
    shutdown_wait_ms = 60_000

    @property
    def candidate_ready(self) -> SignalInstance:
        return self.delivered

    def start(self, request) -> None:
        """Generate for `request` on a fresh thread, cancelling any run still going."""

        def job(thread: JobThread) -> list:
            from studio.ml.generation import generate

            return list(generate(request, on_candidate=thread.deliver, progress=thread.report,
                                 cancel=thread.stop_requested))

        self.start_job(job)
