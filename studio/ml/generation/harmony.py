"""Four-part writing for the harmonize and infill modes: a model's conditionals decoded into
whole chords.

For the SATB-roll harmonizers (the Coconet CNN and MiniBach) the free cells are written by
`studio.ml.generation.chord_gibbs.anneal`: annealed blocked Gibbs sampling that redraws each
cell from the network's prediction given every other voice, plus soft voice-leading costs
(parallels, spacing) and, for models whose voices do not hear each other, a prior over whole
sonorities. The musician's hard limits (each voice's range and the pitch range, the key unless
chromatic notes are allowed, no voice crossing, rests under the soprano's rests) shape what each
cell may take, so they always hold. Each variation is its own chain from its own seed.

`settings_for` reads a model's decoding settings from its card's `decoding` block (tuned on the
JSB validation split by `benchmarks/bench_harmony.py --tune`; the test split only reports).
Any other family with harmonize/infill uses its own method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np
import torch

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation.chord_gibbs import GibbsSettings, anneal
from studio.ml.generation.chord_gibbs import Interrupted as GibbsInterrupted
from studio.ml.sonority_prior import cadence_prior, final_notes
from studio.music.grids import VOICE_RANGES
from studio.music.keys import (
    estimate_key,
    key_name,
    pitch_class_histogram,
    pitch_name,
    scale_pitch_classes,
)

Cancel = Callable[[], bool]


class Interrupted(Exception):
    """Raised inside a candidate when the caller cancelled; the engine stops there."""


# MiniBach's voices hear neither each other nor their own neighbouring steps: the sonority
# prior makes its chords, the costs of changing pitch its rhythm, higher parallel costs its
# voice leading
MINIBACH_SETTINGS = GibbsSettings(steps=24, end_temperature=0.3, sonority=1.0, parallel=6.0,
                                  change=0.5, change_off_beat=1.0, change_off_eighth=1.0)


def settings_for(loaded) -> GibbsSettings:
    """A model's decoding settings: the defaults, with the values its card's `decoding` block
    holds (written by `benchmarks/bench_harmony.py --tune --write`)."""
    block = loaded.card.get("decoding") or {}
    base = GibbsSettings() if loaded.family.name == "coconet" else MINIBACH_SETTINGS
    known = {f.name: type(getattr(base, f.name)) for f in fields(GibbsSettings)}
    return replace(base, **{k: known[k](v) for k, v in block.items() if k in known})


def key_pitch_classes(key: tuple[int, bool]) -> frozenset[int]:
    """The pitch classes of a key: its major scale, or for a minor key the natural minor with
    the raised sixth and seventh (melodic and harmonic minor: the leading tone belongs to the
    key, or no minor cadence could close)."""
    tonic, minor = int(key[0]) % 12, bool(key[1])
    return scale_pitch_classes(tonic, minor) | ({(tonic + 9) % 12, (tonic + 11) % 12}
                                                if minor else frozenset())


def scale_for(melody: np.ndarray, key: tuple[int, bool] | None) -> frozenset[int]:
    """The pitch classes decoding prefers: the user's key, else the key of the melody."""
    if key is not None:
        return scale_pitch_classes(int(key[0]) % 12, bool(key[1]))
    sounding = np.asarray(melody)[np.asarray(melody) >= 0]
    if not len(sounding):
        return scale_pitch_classes(0, False)
    tonic, minor, _ = estimate_key(pitch_class_histogram(sounding), fit_scale=True)
    return scale_pitch_classes(tonic, minor)


def voice_masks(pitch_range: tuple[int, int] | None) -> np.ndarray:
    """(4, 128) bool: the pitches each voice may sing (its JSB range, within the model's range
    and the user's pitch range)."""
    keep = np.zeros((4, 128), bool)
    lo_user, hi_user = pitch_range if pitch_range is not None else (0, 127)
    for v, (lo, hi) in enumerate(VOICE_RANGES):
        a, b = max(lo, sr.LOWEST, lo_user), min(hi, sr.HIGHEST, hi_user)
        if a > b:
            raise GenerationError(
                f"the pitch range {pitch_name(lo_user)}-{pitch_name(hi_user)} leaves the "
                f"{('soprano', 'alto', 'tenor', 'bass')[v]} no note to sing (its range is "
                f"{pitch_name(lo)}-{pitch_name(hi)})")
        keep[v, a:b + 1] = True
    return keep


def check_range(satb: np.ndarray, given: np.ndarray) -> None:
    bad = sr.out_of_range(np.asarray(satb)[given])
    if len(bad):
        worst = int(bad.min()) if bad.min() < sr.LOWEST else int(bad.max())
        raise GenerationError(f"{pitch_name(worst)} is outside the range the harmonizer knows "
                              f"({pitch_name(sr.LOWEST)} to {pitch_name(sr.HIGHEST)})")


# -- conditionals ------------------------------------------------------------------------------
def cnn_conditional(model) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The CNN's log-probabilities (chains, T, 4, classes) of every cell given the shown ones."""
    model.eval()

    def conditional(x: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return torch.log_softmax(model(x, hidden).float(), -1).permute(0, 2, 1, 3)
    return conditional


def minibach_conditional(family, model, soprano: np.ndarray
                         ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """MiniBach's softmaxes for alto, tenor and bass under the soprano: the same whatever the
    other voices hold (the soprano row is never drawn)."""
    logp = torch.zeros(len(soprano), 4, sr.CLASSES)
    with torch.inference_mode():
        logp[:, 1:] = family.voice_logits(model, soprano).float()

    def conditional(x: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        return logp[None].expand(len(x), -1, -1, -1)
    return conditional


def cell_limits(satb: np.ndarray, free: np.ndarray, allowed: np.ndarray,
                key: tuple[int, bool] | None, chromatic: bool) -> torch.Tensor:
    """(T, 4, classes) bool: what each free cell may take. Its voice's range (and the pitch
    range), in the key's scale when a key is chosen and chromatic notes are not allowed; under
    a given soprano's rest only silence, under its notes never silence."""
    limits = np.zeros((4, sr.CLASSES), bool)
    limits[:, 1:] = allowed[:, sr.LOWEST:sr.HIGHEST + 1]
    if key is not None and not chromatic:
        scale = np.array(sorted(key_pitch_classes(key)))
        limits[:, 1:] &= np.isin(np.arange(sr.LOWEST, sr.HIGHEST + 1) % 12, scale)[None]
        for v in range(4):
            if free[:, v].any() and not limits[v].any():
                raise GenerationError(
                    f"the {('soprano', 'alto', 'tenor', 'bass')[v]} has no note of "
                    f"{key_name(int(key[0]) % 12, bool(key[1]))} within its range; widen the "
                    "pitch range or allow chromatic notes")
    out = np.repeat(limits[None], len(satb), axis=0)
    if not free[:, 0].all():
        rests = (satb[:, 0] < 0) & ~free[:, 0]
        out[rests, 1:, 1:] = False
        out[rests, 1:, 0] = True
    return torch.as_tensor(out)


def cadence_bias(satb: np.ndarray, free: np.ndarray, weight: float) -> torch.Tensor | None:
    """(T, 4, classes) log-scores for the bass under a given melody's last two notes: how often
    Bach's bass takes each degree of the melody's key there (`sonority_prior.cadence_prior`:
    mostly the tonic under the last note, the dominant under the one before). None when
    there is nothing to bias (no weight, a free soprano, a given bass)."""
    if weight <= 0 or free[:, 0].any() or not free[:, 3].any():
        return None
    melody = satb[:, 0]
    spans = final_notes(melody)
    if spans is None:
        return None
    tonic = estimate_key(pitch_class_histogram(melody[melody >= 0]))[0]
    prior = cadence_prior()
    degrees = (np.arange(sr.LOWEST, sr.HIGHEST + 1) - tonic) % 12
    bias = np.zeros((len(satb), 4, sr.CLASSES), np.float32)
    for row, span in ((0, spans[1]), (1, spans[0])):
        bias[span, 3, 1:] = weight * prior[row][degrees]
    return torch.as_tensor(bias)


def prefer_scale(scale: frozenset[int]) -> torch.Tensor:
    """(4, classes) bool: the classes whose pitch is in `scale` (silence counts as in it)."""
    inside = np.isin(np.arange(sr.LOWEST, sr.HIGHEST + 1) % 12, np.array(sorted(scale)))
    out = np.ones((4, sr.CLASSES), bool)
    out[:, 1:] = inside[None]
    return torch.as_tensor(out)


def write_voices(loaded, satb: np.ndarray, free: np.ndarray, options: SamplingOptions, *,
                 key: tuple[int, bool] | None = None, pitch_range: tuple[int, int] | None = None,
                 chromatic: bool = False, settings: GibbsSettings | None = None, seed: int,
                 vary: bool = True, cancel: Cancel | None = None) -> np.ndarray:
    """One (T, 4) result of the model `loaded` (a LoadedModel) writing the `free` cells of
    `satb` (pitches, -1 silent; free cells ignored). `seed` makes it reproducible (each
    variation has its own); `settings` default to the model's own (`settings_for`); the
    temperature scales the annealing's temperatures. With a `key`, new notes stay in its scale
    unless `chromatic`; without one they lean (softly) to the melody's key. `vary` is kept for
    callers: every variation is decoded alike, from its own seed."""
    del vary
    satb = np.asarray(satb, np.int64)
    free = np.asarray(free, bool)
    if satb.ndim != 2 or satb.shape[1] != 4 or free.shape != satb.shape:
        raise GenerationError("four-part writing needs four voices and a region of that shape")
    if not free.any():
        raise GenerationError("nothing to generate: the region is empty")
    check_range(satb, ~free)
    family, model = loaded.family, loaded.model
    if writes_chains(loaded):
        return write_chains(loaded, satb, free, options, key=key, pitch_range=pitch_range,
                            chromatic=chromatic, settings=settings, seed=seed, chains=1,
                            cancel=cancel)[0]
    one = SamplingOptions(options.temperature, options.top_k, options.top_p, seed, 1,
                          options.iterations)
    allowed_pitches = None if pitch_range is None else range(pitch_range[0], pitch_range[1] + 1)
    if key is not None and not chromatic:
        scale = key_pitch_classes(key)
        allowed_pitches = [p for p in (allowed_pitches or range(128)) if p % 12 in scale]
    return np.asarray(family.infill(model, satb, free, one, allowed_pitches=allowed_pitches)[0],
                      np.int64)


def writes_chains(loaded) -> bool:
    """Whether `write_chains` serves this model (the SATB-roll harmonizers)."""
    return loaded.family.name == "coconet" or hasattr(loaded.family, "voice_logits")


def write_chains(loaded, satb: np.ndarray, free: np.ndarray, options: SamplingOptions, *,
                 key: tuple[int, bool] | None = None, pitch_range: tuple[int, int] | None = None,
                 chromatic: bool = False, settings: GibbsSettings | None = None, seed: int,
                 chains: int = 1, cancel: Cancel | None = None) -> np.ndarray:
    """(chains, T, 4): `chains` independent harmonizations by an SATB-roll harmonizer (the
    CNN or MiniBach), run side by side (one batched forward pass per Gibbs pass)."""
    satb = np.asarray(satb, np.int64)
    free = np.asarray(free, bool)
    check_range(satb, ~free)
    settings = settings if settings is not None else settings_for(loaded)
    if options.iterations > 0:  # the musician's number of Gibbs passes
        settings = replace(settings, steps=options.iterations)
    if options.temperature != 1.0:
        settings = replace(settings,
                           start_temperature=settings.start_temperature * options.temperature,
                           end_temperature=settings.end_temperature * options.temperature)
    family, model = loaded.family, loaded.model
    if family.name == "coconet":
        conditional = cnn_conditional(model)
    else:  # MiniBach: the lower voices under a given soprano
        if free[:, 0].any():
            raise GenerationError(f"a {family.title} cannot rewrite the soprano; choose the "
                                  "lower voices only")
        conditional = minibach_conditional(family, model, satb[:, 0])
    limits = cell_limits(satb, free, voice_masks(pitch_range), key, chromatic)
    prefer = None if key is not None else prefer_scale(
        scale_for(np.where(free[:, 0], -1, satb[:, 0]), None))
    given = torch.as_tensor(sr.to_classes(np.where(free, -1, satb))).long()
    bias = cadence_bias(satb, free, settings.cadence)
    try:
        x = anneal(conditional, given[None].repeat(chains, 1, 1), torch.as_tensor(free), limits,
                   settings, torch.Generator().manual_seed(seed), prefer=prefer, bias=bias,
                   cancel=cancel)
    except GibbsInterrupted:
        raise Interrupted from None
    return np.where(free[None], sr.to_pitches(x).astype(np.int64), satb[None])
