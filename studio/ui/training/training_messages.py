"""What the training panel says, in words: the run's start, each epoch, the progress line and
how a run ended (no Qt; the panel shows these strings)."""

from __future__ import annotations

from studio.ml.callbacks import EpochReport, RunInfo, StepReport, TrainResult

ENDINGS = {"completed": "finished",
           "early-stopped": "stopped early (no better validation loss for {patience})",
           "cancelled": "was stopped"}


def clock(seconds: float) -> str:
    """`1:05` or `2:03:00`."""
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def started_text(info: RunInfo, grid: bool = False) -> str:
    which = f" (grid run {info.run_index + 1})" if grid else ""
    notes = []
    if info.skipped_pieces:
        notes.append(f"{info.skipped_pieces} pieces shorter than the window left out")
    if info.unreadable_pieces:
        notes.append(f"{info.unreadable_pieces} unreadable pieces left out")
    return (f"Training {info.model} on {info.dataset}{which}: {info.parameters:,} weights, "
            f"{info.train_examples:,} training and {info.valid_examples:,} validation "
            f"excerpts, on {info.device}." + (f" ({'; '.join(notes)})" if notes else ""))


def progress_text(report: StepReport, epochs: int | str) -> str:
    return (f"epoch {report.epoch}/{epochs} · step {report.step_in_epoch}/"
            f"{report.steps_per_epoch} · {clock(report.eta)} left")


def epoch_text(report: EpochReport) -> str:
    m = report.metrics
    text = (f"Epoch {report.epoch}: training loss {m.get('train_loss', float('nan')):.3f}, "
            f"validation loss {m.get('valid_loss', float('nan')):.3f}")
    if "valid_accuracy" in m:
        text += f", accuracy {m['valid_accuracy']:.1%}"
    return text + (" — best so far" if report.is_best else
                   f" — {report.epochs_without_improvement} without improvement")


def ended_text(result: TrainResult, patience: object, saved_as: str | None) -> str:
    epochs = len(result.history)
    waited = f"{patience} epoch{'' if patience == 1 else 's'}"
    text = (f"Training {ENDINGS.get(result.status, result.status).format(patience=waited)} "
            f"after {epochs} epoch{'s' if epochs != 1 else ''}")
    best = result.best_metrics
    if best:
        text += f"; best epoch {result.best_epoch}, validation loss {best['valid_loss']:.3f}"
    if saved_as:
        text += f". Saved as {saved_as} in the Library."
    if result.status != "cancelled":
        from studio.ml.finetune import training_warnings

        text += "".join(f"\nWarning: {w}." for w in training_warnings(result.history))
    return text


def compared_text(comparison: dict) -> str:
    """A fine-tune's notes and comparison with its parent (and a model from scratch)."""
    lines = [f"Note: {n}." for n in comparison.get("notes", [])]
    return "\n".join(lines + [line for line in comparison.get("lines", [])
                              if not line.startswith("warning:")])
