"""Four-part writing for the harmonize and infill modes: the model's per-step voice
probabilities, decoded into well-led voices.

Sampling a Coconet-style CNN cell by cell (Gibbs) gives harmony whose voices move in parallel
fifths and octaves several times as often as Bach's. So each model here only supplies, for every
16th step, a probability for each pitch of each free voice, and
`studio.music.harmony_search.decode` (Viterbi with voice-leading penalties) picks the whole path:

- CNN (Coconet family): a few annealed Gibbs passes draw a full four-voice context; then, for
  each free voice, the net predicts that voice with it hidden and the others as drawn (its
  conditional given a plausible harmony), mixed with its prediction from the melody alone.
  Each variation runs its own Gibbs chain, so variations differ in harmony, not only in detail.
- MiniBach MLP: its per-step softmaxes for alto, tenor and bass (one forward pass).
- Any other family with harmonize/infill: its own method.

Variations add Gumbel noise, drawn once per beat, to the emissions (perturb-and-MAP, scaled by
the temperature).
`HarmonySettings` holds the knobs, tuned on the JSB validation split by
`benchmarks/bench_harmony.py --tune` (the test split only reports).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.sampling import filter_logits
from studio.music.grids import VOICE_RANGES
from studio.music.harmony_search import VoiceLeadingPenalties, decode
from studio.music.keys import estimate_key, pitch_class_histogram, pitch_name, scale_pitch_classes

IMPOSSIBLE = -1e4  # log-probability of a pitch a voice may not take
Cancel = Callable[[], bool]


class Interrupted(Exception):
    """Raised inside a candidate when the caller cancelled; the engine stops there."""


@dataclass(frozen=True)
class HarmonySettings:
    gibbs_steps: int = 6  # annealed Gibbs passes before reading the conditionals (CNN)
    conditional_weight: float = 0.7  # conditionals vs prediction from the melody alone (CNN)
    search_width: int = 4  # likeliest pitches per voice and step that the search weighs
    perturbation: float = 0.5  # Gumbel noise (nats) per unit of temperature, for variations
    beat_smoothing: float = 0.0  # share of each step's probabilities taken from its beat's mean
    penalties: VoiceLeadingPenalties = field(default_factory=VoiceLeadingPenalties)


DEFAULT_SETTINGS = HarmonySettings()


def settings_for(loaded) -> HarmonySettings:
    """The decoding settings of a model: the defaults, with the values its card's `decoding`
    block holds (written by `benchmarks/bench_harmony.py --tune --write`, tuned on the
    validation split)."""
    block = loaded.card.get("decoding") or {}
    own = {f.name for f in fields(HarmonySettings)} - {"penalties"}
    costs = {f.name for f in fields(VoiceLeadingPenalties)}
    penalties = replace(DEFAULT_SETTINGS.penalties, **{
        k: type(getattr(DEFAULT_SETTINGS.penalties, k))(v) for k, v in block.items()
        if k in costs})
    return replace(DEFAULT_SETTINGS, penalties=penalties, **{
        k: type(getattr(DEFAULT_SETTINGS, k))(v) for k, v in block.items() if k in own})


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


# -- model probabilities -------------------------------------------------------------------------
def _cnn_forward(model, x: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """(b, t, 4, classes) log-probabilities."""
    return torch.log_softmax(model(x, hidden).float(), -1).permute(0, 2, 1, 3)


def cnn_logp(model, satb: np.ndarray, free: np.ndarray, allowed: np.ndarray,
             settings: HarmonySettings, generator: torch.Generator, temperature: float,
             cancel: Cancel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4, 128) log-probabilities of every voice and the Gibbs draw (T, 4) pitches."""
    device = next(model.parameters()).device
    classes = torch.as_tensor(sr.to_classes(np.where(free, -1, satb)), device=device)[None].long()
    hidden = torch.as_tensor(free, device=device)[None]
    penalty = np.full((4, sr.CLASSES), -np.inf, np.float32)
    penalty[:, 0] = 0.0  # silence stays possible for the sampler
    penalty[:, 1:] = np.where(allowed[:, sr.LOWEST:sr.HIGHEST + 1], 0.0, -np.inf)
    pen = torch.as_tensor(penalty, device=device)
    with torch.inference_mode():
        alone = _cnn_forward(model, classes, hidden)[0]  # every free cell hidden
        x = classes.clone()
        steps = settings.gibbs_steps
        for n in range(steps):
            if cancel is not None and cancel():
                raise Interrupted
            if n == 0:
                logits = alone[None]
                block = hidden
            else:
                share = max(0.05, 1.0 - n * 0.95 / max(1e-9, 0.75 * steps))
                pick = torch.rand(hidden.shape, generator=generator).to(device) < share
                block = hidden & pick
                if not block.any():
                    continue
                logits = _cnn_forward(model, x, block)
            probs = torch.softmax(logits / temperature + pen[None, None], -1)
            drawn = torch.multinomial(probs[block].cpu(), 1, generator=generator)[:, 0]
            x[block] = drawn.to(device, x.dtype)
        logp = alone
        if steps and settings.conditional_weight > 0:
            voices = [v for v in range(4) if free[:, v].any()]
            masks = torch.zeros((len(voices),) + hidden.shape[1:], dtype=torch.bool,
                                device=device)
            for i, v in enumerate(voices):
                masks[i, :, v] = hidden[0, :, v]
            cond = _cnn_forward(model, x.expand(len(voices), -1, -1), masks)
            w = settings.conditional_weight
            logp = alone.clone()
            for i, v in enumerate(voices):
                mixed = w * cond[i, :, v].exp() + (1 - w) * alone[:, v].exp()
                logp[:, v] = mixed.clamp(min=1e-12).log()
    full = np.full((len(satb), 4, 128), IMPOSSIBLE, np.float32)
    full[:, :, sr.LOWEST:sr.HIGHEST + 1] = logp[:, :, 1:].cpu().numpy()
    return full, sr.to_pitches(x[0])


def minibach_logp(family, model, soprano: np.ndarray) -> np.ndarray:
    """(T, 4, 128) log-probabilities (soprano row unused) from the MLP's softmaxes."""
    logp = family.voice_logits(model, soprano).numpy()  # T, 3, classes
    full = np.full((len(soprano), 4, 128), IMPOSSIBLE, np.float32)
    full[:, 1:, sr.LOWEST:sr.HIGHEST + 1] = logp[:, :, 1:]
    return full


# -- decoding ------------------------------------------------------------------------------------
def smooth_beats(logp: np.ndarray, weight: float, steps_per_beat: int = 4) -> np.ndarray:
    """Each step's probabilities mixed with the mean over its beat (quarter note).

    A network unsure of a voice gives flat probabilities whose likeliest few pitches change
    from one 16th to the next; the search only weighs those few, so a held note would be forced
    to move whenever its pitch drops out of them, and the voice flickers. Sharing part of the
    beat's probabilities keeps the same choices within a beat: voices then move mostly on
    beats and eighths, as chorale voices do."""
    if weight <= 0:
        return logp
    p = np.exp(np.asarray(logp, np.float64))
    steps = len(p)
    pad = -steps % steps_per_beat
    beats = np.concatenate([p, np.repeat(p[-1:], pad, axis=0)]) if pad else p
    mean = beats.reshape(-1, steps_per_beat, *p.shape[1:]).mean(axis=1)
    mixed = (1 - weight) * p + weight * np.repeat(mean, steps_per_beat, axis=0)[:steps]
    return np.log(np.maximum(mixed, 1e-30)).astype(np.float32)


def beat_noise(shape: tuple[int, ...], scale: float, rng: np.random.Generator,
               steps_per_beat: int = 4) -> np.ndarray:
    """Gumbel noise drawn once per beat and kept for its steps: added to the log-probabilities
    it makes variations (perturb-and-MAP) that differ in their choice of notes, where noise
    drawn per 16th would only make the voices flicker."""
    if scale <= 0:
        return np.zeros(shape)
    beats = -(-shape[0] // steps_per_beat)
    noise = rng.gumbel(size=(beats, *shape[1:]))
    return scale * np.repeat(noise, steps_per_beat, axis=0)[:shape[0]]


def decode_voices(satb: np.ndarray, free: np.ndarray, logp: np.ndarray, allowed: np.ndarray,
                  scale: frozenset[int], options: SamplingOptions, settings: HarmonySettings,
                  rng: np.random.Generator) -> np.ndarray:
    """(T, 4) pitches: the given cells kept, the free alto/tenor/bass cells decoded. The soprano
    must be given (or already drawn) in `satb`. Where the soprano rests, free voices rest."""
    satb = np.asarray(satb, np.int64)
    logp = smooth_beats(logp, settings.beat_smoothing, settings.penalties.steps_per_quarter)
    lp = np.where(allowed[None, 1:], logp[:, 1:], IMPOSSIBLE).astype(np.float64)
    if options.top_k or options.top_p < 1.0:
        t = torch.as_tensor(lp.reshape(-1, 128))
        lp = filter_logits(t, 1.0, options.top_k, options.top_p).numpy().reshape(lp.shape)
        lp = np.maximum(lp, IMPOSSIBLE)
    fixed = np.where(free, -2, satb)
    fixed[:, 0] = satb[:, 0]
    rests = satb[:, 0] < 0
    fixed[:, 1:] = np.where(rests[:, None] & free[:, 1:], -1, fixed[:, 1:])
    width = settings.search_width if not options.top_k else min(settings.search_width,
                                                                 max(1, options.top_k))
    lp = lp + beat_noise(lp.shape, settings.perturbation * options.temperature, rng,
                         settings.penalties.steps_per_quarter)
    return decode(satb[:, 0], lp, fixed, top_k=width, penalties=settings.penalties, scale=scale)


def decode_line(logp: np.ndarray, fixed: np.ndarray, scale: frozenset[int],
                settings: HarmonySettings, temperature: float,
                rng: np.random.Generator) -> np.ndarray:
    """(T,) pitches of one voice (the soprano, when infill rewrites it): Viterbi over its
    likeliest pitches per step with the same costs as the four-voice search has for one voice
    (changing pitch, off the beat more; leaps; notes out of the key). `fixed` holds -2 where the
    voice is free, else the pitch (or -1) to keep."""
    pen = settings.penalties
    lp = np.array(smooth_beats(logp, settings.beat_smoothing, pen.steps_per_quarter), np.float64)
    lp = lp + beat_noise(lp.shape, settings.perturbation * temperature, rng, pen.steps_per_quarter)
    k = settings.search_width
    cand = np.argpartition(-lp, k - 1, axis=1)[:, :k]
    emit = np.take_along_axis(lp, cand, axis=1)
    emit -= pen.out_of_key * ~np.isin(cand % 12, np.array(sorted(scale)))
    is_fixed = fixed != -2
    cand = np.where(is_fixed[:, None], fixed[:, None], cand)
    emit = np.where(is_fixed[:, None], 0.0, emit)
    q = pen.steps_per_quarter
    score, back = emit[0].copy(), np.zeros(cand.shape, np.int64)
    for t in range(1, len(cand)):
        change = pen.change + (pen.change_off_quarter if t % q else 0.0) + \
            (pen.change_off_eighth if t % max(1, q // 2) else 0.0)
        a, b = cand[t - 1][:, None], cand[t][None, :]
        leap = np.abs(b - a) * ((a >= 0) & (b >= 0))
        cost = change * (a != b) + pen.leap_over_octave * (leap > 12) + \
            pen.leap_over_fifth * ((leap > 7) & (leap <= 12))
        total = score[:, None] - cost
        back[t] = total.argmax(0)
        score = total[back[t], np.arange(k)] + emit[t]
    path = np.empty(len(cand), np.int64)
    path[-1] = int(score.argmax())
    for t in range(len(cand) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return cand[np.arange(len(cand)), path]


def write_voices(loaded, satb: np.ndarray, free: np.ndarray, options: SamplingOptions, *,
                 key: tuple[int, bool] | None = None, pitch_range: tuple[int, int] | None = None,
                 settings: HarmonySettings | None = None, seed: int, vary: bool = True,
                 cancel: Cancel | None = None) -> np.ndarray:
    """One (T, 4) result of the model `loaded` (a LoadedModel) writing the `free` cells of
    `satb` (pitches, -1 silent; free cells ignored). `seed` makes it reproducible; `settings`
    default to the model's own (`settings_for`). Without `vary` (the first variation), the
    CNN's search takes the likeliest well-led path under its own Gibbs draw (which the seed
    already varies); with it, and for models that draw nothing themselves, the probabilities
    are perturbed first."""
    satb = np.asarray(satb, np.int64)
    free = np.asarray(free, bool)
    if satb.ndim != 2 or satb.shape[1] != 4 or free.shape != satb.shape:
        raise GenerationError("four-part writing needs four voices and a region of that shape")
    if not free.any():
        raise GenerationError("nothing to generate: the region is empty")
    check_range(satb, ~free)
    settings = settings if settings is not None else settings_for(loaded)
    if options.iterations > 0:  # the musician's number of Gibbs passes
        settings = replace(settings, gibbs_steps=options.iterations)
    if not vary and loaded.family.name == "coconet":
        settings = replace(settings, perturbation=0.0)
    family, model = loaded.family, loaded.model
    allowed = voice_masks(pitch_range)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    name = family.name
    if name == "coconet":
        logp, _ = cnn_logp(model, satb, free, allowed, settings, generator,
                           options.temperature, cancel)
        scale = scale_for(np.where(free[:, 0], -1, satb[:, 0]), key)
        if free[:, 0].any():  # a new soprano first, then the voices under it
            fixed = np.where(free[:, 0], -2, satb[:, 0])
            soprano_lp = np.where(allowed[0], logp[:, 0], IMPOSSIBLE)
            satb = satb.copy()
            satb[:, 0] = decode_line(soprano_lp, fixed, scale, settings, options.temperature,
                                     rng)
            free = free.copy()
            free[:, 0] = False
        return decode_voices(satb, free, logp, allowed, scale, options, settings, rng)
    if hasattr(family, "voice_logits"):  # MiniBach: the lower voices under a given soprano
        if free[:, 0].any():
            raise GenerationError(f"a {family.title} cannot rewrite the soprano; choose the "
                                  "lower voices only")
        logp = minibach_logp(family, model, satb[:, 0])
        scale = scale_for(satb[:, 0], key)
        return decode_voices(satb, free, logp, allowed, scale, options, settings, rng)
    one = SamplingOptions(options.temperature, options.top_k, options.top_p, seed, 1,
                          options.iterations)
    allowed_pitches = None if pitch_range is None else range(pitch_range[0], pitch_range[1] + 1)
    return np.asarray(family.infill(model, satb, free, one, allowed_pitches=allowed_pitches)[0],
                      np.int64)
