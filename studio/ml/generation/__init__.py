"""Generation tasks (Qt-free): new melody, continuation, harmonization, infill and interpolation
on the user's own song, with the originality check and the style score of every candidate.

    from studio.ml.generation import GenerationRequest, generate, default_model
    request = GenerationRequest("harmonize", default_model("harmonize"), song, track_ids=(t.id,))
    for candidate in generate(request, on_candidate=show, progress=report, cancel=stopped):
        ...  # candidate.edit applied with document.apply(edit) is one undo step

Modules: `request` (the dataclasses), `engine` (`generate`), `models` (library, defaults,
training sets), `harmony` (four-part writing with voice-leading decoding), `satb_tasks` and
`melody_tasks` (one planner per mode), `material` (reading the song), `results` (edits and
candidates), `originality` (shared runs with the training set).
"""

from studio.ml.errors import ModelUnavailableError
from studio.ml.generation.engine import generate
from studio.ml.generation.models import available_models, default_model, warm_up
from studio.ml.generation.request import (
    MAX_BARS,
    MODE_TITLES,
    Candidate,
    GenerationRequest,
    Originality,
)

__all__ = ["Candidate", "GenerationRequest", "MAX_BARS", "MODE_TITLES", "ModelUnavailableError",
           "Originality", "available_models", "default_model", "generate", "warm_up"]
