"""`generate(request)`: check the request, load the model, write the variations one by one.

Each candidate is handed to `on_candidate` as soon as it is ready (the panel shows the first
while the others are still being written). `progress(fraction, text)` reports along the way.
`cancel()` is checked between candidates and between sampling steps; when it returns True,
generation stops cleanly and `generate` RETURNS the candidates finished so far (possibly none):
it never raises for a cancel. Bad input raises GenerationError (or a subclass) before anything
is written; the user's song is never modified.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from studio.ml.errors import GenerationError
from studio.ml.generation import models
from studio.ml.generation.accompany_task import plan_accompany
from studio.ml.generation.harmony import Interrupted
from studio.ml.generation.melody_tasks import plan_continue, plan_interpolate, plan_melody
from studio.ml.generation.pop_infill import plan_pop_infill
from studio.ml.generation.request import MODE_TITLES, MODE_VERBS, Candidate, GenerationRequest
from studio.ml.generation.results import finish
from studio.ml.generation.satb_tasks import plan_harmonize, plan_infill
from studio.ml.modes import model_modes
from studio.ml.sampling import torch_threads

PLANNERS = {"melody": plan_melody, "continue": plan_continue, "harmonize": plan_harmonize,
            "infill": plan_infill, "interpolate": plan_interpolate,
            "accompany": plan_accompany, "pop-infill": plan_pop_infill}

Progress = Callable[[float, str], None]


def generate(request: GenerationRequest, *, on_candidate: Callable[[Candidate], None] | None
             = None, progress: Progress | None = None,
             cancel: Callable[[], bool] | None = None) -> list[Candidate]:
    """The candidates of `request` (see the module docstring for cancel and errors)."""
    request.check()
    report = progress or (lambda fraction, text: None)
    stopped = cancel or (lambda: False)
    report(0.0, "loading the model")
    loaded = models.load(request.model, request.device)
    modes = model_modes(loaded.family.modes, loaded.family.name)
    if request.mode not in modes:
        can = ", ".join(modes) or "nothing"
        raise GenerationError(f"{loaded.name} ({loaded.family.title}) cannot "
                              f"{MODE_VERBS[request.mode]}; it can: {can}")
    plan = PLANNERS[request.mode](request, loaded)
    if stopped():
        return []
    report(0.02, "reading the training set")
    models.originality_index(loaded)
    models.style_reference(loaded)
    base = request.options.seed if request.options.seed >= 0 else secrets.randbits(31)
    title = MODE_TITLES[request.mode]
    out: list[Candidate] = []
    # One torch thread: these small models run several times faster on one thread than on
    # two that wait for each other on a busy laptop, and the window keeps a core.
    with torch_threads(1):
        while len(out) < plan.count and not stopped():
            i = len(out)
            left = plan.count - i
            started = time.perf_counter()
            if i and plan.batch is not None and left > 1:
                report(0.05 + 0.95 * i / plan.count, f"writing variations {i + 1}-{plan.count}")
                try:
                    drafts = plan.batch(left, (base + i) % 2**31, stopped)
                except Interrupted:
                    break
            else:
                report(0.05 + 0.95 * i / plan.count, f"writing variation {i + 1} of "
                       f"{plan.count}")
                try:
                    drafts = [plan.draft(i, (base + i) % 2**31, stopped)]
                except Interrupted:
                    break
            for draft in drafts:
                candidate = finish(draft, len(out), request, loaded, started, title)
                out.append(candidate)
                if on_candidate is not None:
                    on_candidate(candidate)
            if not drafts:
                break
    report(1.0, f"{len(out)} of {plan.count} variations" if len(out) < plan.count
           else f"{len(out)} variation{'s' if len(out) != 1 else ''} ready")
    return out
