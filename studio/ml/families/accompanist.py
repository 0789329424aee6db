"""Pop accompanist: chords for a melody, then a piano part (left-hand bass, right-hand chords
and rhythm) in the style it learned (POP909 by default), in two small recurrent networks trained
together:

    chord model:   per beat, the melody's pitch classes (relative to its key: the beat's, the note
                   on the beat, the half bar's, the bar's and the song's), the beat's place in
                   its bar and the bar's in a four-bar phrase -> bidirectional GRU -> a chord
                   (12 roots x the CHORD_KINDS of `studio.ml.accompaniment`)
    texture model: per step (16th of a beat), the bar position, the melody (onset, and pitch
                   relative to the chord root) and the chord (kind, change) plus the onsets of
                   the step before -> GRU -> the step's voicing: which of 28 chord-relative
                   piano lanes start a note, as one left-hand pattern and one right-hand
                   pattern given the left hand's (`texture="voicings"`: whole voicings from a
                   vocabulary of the patterns the training songs play, so the notes of a chord
                   are chosen together; models from before it draw each lane on its own,
                   `texture="lanes"`), and the length class (1, 2, 4, 8, 16, 24+ steps) of
                   each lane's note

The representation is `studio.ml.accompaniment`. Chord decoding is a Viterbi pass over the
chord model's probabilities that charges for a change, less on a downbeat or mid-bar, so chords
last as long as the melody allows. The texture is drawn step by step (temperature applies) and
rendered with the left hand held until its next onset (as under the pedal) and kept at or above
D2, which brings the held notes and the register nearer POP909's real piano parts
(benchmarks/bench_accompaniment.py). The chord model has its own dropout (`chord_dropout`): it
learns faster than the texture model and overfits while the texture still improves.

Training data: for POP909 pieces the annotated chords, melody (MELODY) and piano (PIANO);
for the user's own multi-track pieces the tracks named by the `melody_track` and
`accompaniment_track` settings, with chords recognised from the accompaniment beat by beat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.ml import accompaniment as acc
from studio.ml.errors import DatasetTooSmallError, is_unreadable_piece
from studio.ml.family import Examples, Family, LossOutput, SamplingOptions
from studio.ml.knobs import knob
from studio.music.chords import Chord
from studio.music.keys import estimate_key, pitch_class_histogram

if TYPE_CHECKING:
    from studio.data import Dataset, Piece


TEXTURES = ("voicings", "lanes")
LH_VOICINGS, RH_VOICINGS = 64, 256  # vocabulary sizes (index 0: no onset in that hand)


@dataclass
class AccompanistConfig:
    hidden: int = knob(96, low=16, high=512, help="Memory cells of each of the two networks "
                       "(chords and texture).")
    window: int = knob(64, low=16, high=256, help="Training excerpt in steps (16ths of a "
                       "beat): 64 = four bars of 4/4.")
    dropout: float = knob(0.1, low=0.0, high=0.7, help="Share of cells silenced while "
                          "training, against learning the songs by heart.")
    chord_dropout: float = knob(0.1, low=0.0, high=0.7, help="Share of the chord model's "
                                "cells silenced while training (it learns faster than the "
                                "texture model and overfits first).")
    change_cost: float = knob(2.0, low=0.0, high=10.0, help="How much a chord change must be "
                              "worth before the suggested chords change (mid-beat changes cost "
                              "more than changes on the bar line).")
    melody_track: str = knob("MELODY", help="In your own datasets: the name the melody "
                             "track starts with.")
    accompaniment_track: str = knob("PIANO", help="In your own datasets: the name the "
                                    "accompaniment track starts with.")
    texture: str = knob("voicings", choices=TEXTURES, help="'voicings': each hand plays whole "
                        "chord shapes from the training songs; 'lanes': each note is chosen on "
                        "its own (models made before voicings).")


def melody_key(melody: np.ndarray) -> tuple[int, bool]:
    """(tonic, minor) estimated from per-step melody pitches."""
    sounding = melody[melody >= 0]
    if not len(sounding):
        return 0, False
    tonic, minor, _ = estimate_key(pitch_class_histogram(sounding))
    return tonic, minor


def encode_piece(piece: Piece, config: AccompanistConfig) -> dict[str, np.ndarray] | None:
    """Per-step features and lanes, per-beat features and chord classes of one piece."""
    material = acc.piece_material(piece, config.melody_track, config.accompaniment_track)
    if material is None:
        return None
    melody_rows, piano_rows, grid, chords = material
    piano_rows = piano_rows[:, :3]
    melody, onset = acc.melody_steps(melody_rows, grid)
    tonic, minor = melody_key(melody)
    beats = len(grid) // 4
    steps = beats * 4
    lanes, lengths = acc.piano_lanes(piano_rows, grid, chords, durations=True)
    return {"steps": acc.step_features(grid, melody, onset, chords)[:steps].astype(np.uint8),
            "lanes": lanes[:steps].astype(np.uint8), "lengths": lengths[:steps],
            "mask": np.array([c is not None for c in chords[:steps]], np.uint8),
            "beats": acc.beat_features(grid, melody, tonic, minor).astype(np.float16),
            "targets": np.array([acc.chord_class(chords[4 * b], tonic) for b in range(beats)],
                                np.int8)}


def voicing_vocabulary(lanes: np.ndarray, size: int) -> np.ndarray:
    """(size, lanes) uint8: the empty pattern, then the patterns of `lanes` (steps, lanes) from
    the most played down; rows past the distinct patterns repeat the empty one (masked out)."""
    out = np.zeros((size, lanes.shape[1]), np.uint8)
    rows = lanes[lanes.any(1)].astype(np.uint8)
    if len(rows):
        patterns, counts = np.unique(rows, axis=0, return_counts=True)
        order = np.argsort(-counts, kind="stable")[:size - 1]
        out[1:1 + len(order)] = patterns[order]
    return out


def default_vocabulary(size: int, width: int) -> np.ndarray:
    """Before any songs are seen: silence and each lane alone."""
    out = np.zeros((size, width), np.uint8)
    for i in range(min(width, size - 1)):
        out[1 + i, i] = 1
    return out


def nearest_voicing(x: torch.Tensor, vocab: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Index of the vocabulary pattern nearest each row of `x` (..., lanes) by the number of
    lanes that differ (a pattern the vocabulary lacks is learnt as its nearest)."""
    x, v = x.float(), vocab.float()
    differ = x.sum(-1, keepdim=True) - 2 * x @ v.T + v.sum(-1)
    return (differ + (~valid) * 1e6).argmin(-1)


class AccompanistNet(nn.Module):
    def __init__(self, c: AccompanistConfig,
                 vocabulary: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__()
        h = c.hidden
        self.voicings = c.texture == "voicings"
        self.chord_in = nn.Linear(acc.BEAT_FEATURES, h)
        self.chord_rnn = nn.GRU(h, h, batch_first=True, bidirectional=True)
        self.chord_out = nn.Linear(2 * h, acc.CHORD_CLASSES)
        self.texture_in = nn.Linear(acc.STEP_FEATURES + acc.LANES, h)
        self.texture_rnn = nn.GRU(h, h, batch_first=True)
        if self.voicings:
            lh, rh = vocabulary or (default_vocabulary(LH_VOICINGS, acc.LH_LANES),
                                    default_vocabulary(RH_VOICINGS, acc.LANES - acc.LH_LANES))
            self.register_buffer("lh_vocab", torch.as_tensor(lh, dtype=torch.uint8))
            self.register_buffer("rh_vocab", torch.as_tensor(rh, dtype=torch.uint8))
            self.lh_out = nn.Linear(h, LH_VOICINGS)
            self.lh_embed = nn.Embedding(LH_VOICINGS, h)
            self.rh_out = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, RH_VOICINGS))
            self.texture_out = nn.Linear(h, acc.LANES * len(acc.DURATION_STEPS))
        else:
            self.texture_out = nn.Linear(h, acc.LANES * (1 + len(acc.DURATION_STEPS)))
        self.drop = nn.Dropout(c.dropout)
        self.chord_drop = nn.Dropout(c.chord_dropout)

    def vocab_valid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Which vocabulary rows are patterns (row 0, the empty one, always is)."""
        out = []
        for v in (self.lh_vocab, self.rh_vocab):
            valid = v.bool().any(-1)
            valid[0] = True
            out.append(valid)
        return out[0], out[1]

    def hidden(self, steps: torch.Tensor, previous: torch.Tensor, state=None):
        x = self.drop(torch.relu(self.texture_in(torch.cat([steps, previous], -1))))
        y, state = self.texture_rnn(x, state)
        return self.drop(y), state

    def lh_logits(self, y: torch.Tensor) -> torch.Tensor:
        """The left hand's voicing logits (rows that hold no pattern masked out)."""
        return self.lh_out(y).float().masked_fill(~self.vocab_valid()[0], -1e9)

    def rh_logits(self, y: torch.Tensor, lh: torch.Tensor) -> torch.Tensor:
        """The right hand's voicing logits given the left hand's chosen class `lh`."""
        logits = self.rh_out(torch.cat([y, self.lh_embed(lh)], -1)).float()
        return logits.masked_fill(~self.vocab_valid()[1], -1e9)

    def lengths(self, y: torch.Tensor) -> torch.Tensor:
        out = self.texture_out(y)
        return out.reshape(*out.shape[:-1], acc.LANES, -1)

    def chords(self, beats: torch.Tensor) -> torch.Tensor:
        x = self.chord_drop(torch.relu(self.chord_in(beats)))
        return self.chord_out(self.chord_drop(self.chord_rnn(x)[0]))

    def texture(self, steps: torch.Tensor, previous: torch.Tensor, state=None):
        """(onset logits (..., LANES), length logits (..., LANES, classes), state): the
        per-lane net (`texture="lanes"`)."""
        y, state = self.hidden(steps, previous, state)
        out = self.texture_out(y)
        onsets, lengths = out[..., :acc.LANES], out[..., acc.LANES:]
        return onsets, lengths.reshape(*lengths.shape[:-1], acc.LANES, -1), state


class Accompanist(Family):
    name = "accompanist"
    models = {"accompanist": {}}
    title = "pop accompanist (chords + piano texture)"
    summary = ("Suggests chords for a melody and writes a piano accompaniment under it: bass "
               "in the left hand, chords and rhythm in the right, as in POP909.")
    Config = AccompanistConfig
    representation = "accompaniment/3"
    modes = ("accompany",)
    evaluation_note = ("NLL per beat: the chord model's loss on the annotated chord plus the "
                       "texture model's onset losses over the beat's four steps")

    def examples(self, dataset: Dataset, split: str, *, training: bool) -> Examples:
        key = (f"{self.representation}/lengths:{self.config.melody_track}:"
               f"{self.config.accompaniment_track}")
        arrays = dataset.cached_arrays(key, lambda: self._encode(dataset))
        if split == "train" and training:  # the voicings a new model can play: the songs' own
            played = arrays["train_lanes"][arrays["train_mask"].astype(bool)]
            self._vocabulary = (voicing_vocabulary(played[:, :acc.LH_LANES], LH_VOICINGS),
                                voicing_vocabulary(played[:, acc.LH_LANES:], RH_VOICINGS))
        w = self.config.window // 4 * 4
        out: dict[str, list[np.ndarray]] = {k: [] for k in ("steps", "lanes", "lengths", "mask",
                                                           "beats", "targets")}
        off, boff = arrays[f"{split}_offsets"], arrays[f"{split}_beat_offsets"]
        pieces = 0
        for i in range(len(off) - 1):
            a, b, ba = int(off[i]), int(off[i + 1]), int(boff[i])
            starts = range(0, b - a - w + 1, w)
            pieces += bool(len(starts))
            for s in starts:
                if arrays[f"{split}_mask"][a + s:a + s + w].mean() < 0.5:
                    continue
                for k in ("steps", "lanes", "lengths", "mask"):
                    out[k].append(arrays[f"{split}_{k}"][a + s:a + s + w])
                for k in ("beats", "targets"):
                    out[k].append(arrays[f"{split}_{k}"][ba + s // 4:ba + (s + w) // 4])
        if not out["steps"]:
            raise DatasetTooSmallError(
                f"the {split} split of dataset {dataset.name!r} has no piece with a melody track "
                f"({self.config.melody_track!r}) and an accompaniment track "
                f"({self.config.accompaniment_track!r}) of {w // 16} bars or more")
        return Examples({k: torch.from_numpy(np.stack(v)) for k, v in out.items()}, pieces)

    def _encode(self, dataset: Dataset) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for split in ("train", "valid", "test"):
            parts: dict[str, list[np.ndarray]] = {k: [] for k in ("steps", "lanes", "lengths",
                                                                  "mask", "beats", "targets")}
            for piece in dataset.split(split):
                try:
                    e = encode_piece(piece, self.config)
                except Exception as err:  # an unreadable piece is left out, as elsewhere
                    if not is_unreadable_piece(err):
                        raise
                    e = None
                if e is not None:
                    for k in parts:
                        parts[k].append(e[k])
            for k, v in parts.items():
                width = {"steps": acc.STEP_FEATURES, "lanes": acc.LANES, "lengths": acc.LANES,
                         "beats": acc.BEAT_FEATURES}.get(k)
                empty = np.zeros((0, width) if width else (0,), np.int8
                                 if k in ("targets", "lengths") else
                                 np.float16 if k == "beats" else np.uint8)
                out[f"{split}_{k}"] = np.concatenate(v) if v else empty
            out[f"{split}_offsets"] = np.cumsum([0] + [len(x) for x in parts["steps"]])
            out[f"{split}_beat_offsets"] = np.cumsum([0] + [len(x) for x in parts["beats"]])
        return out

    def representation_card(self) -> dict:
        return {"name": self.representation, "step": "16th of a beat (6/8: 32nd)",
                "lanes": acc.LANES, "chord_classes": "12 roots relative to the melody's key "
                "x " + "/".join(acc.CHORD_KINDS), "melody_track": self.config.melody_track,
                "accompaniment_track": self.config.accompaniment_track}

    def build(self) -> AccompanistNet:
        """The net; a new voicings net gets the training songs' voicings (read by `examples`
        of the train split), a loaded one its own (from its weights file)."""
        return AccompanistNet(self.config, getattr(self, "_vocabulary", None))

    @classmethod
    def upgrade_config(cls, config: dict) -> dict:
        """Cards written before `texture` existed hold the per-lane net."""
        return config if "texture" in config else {**config, "texture": "lanes"}

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        steps, lanes = batch["steps"].float(), batch["lanes"].float()
        mask = batch["mask"].float()
        previous = torch.cat([torch.zeros_like(lanes[:, :1]), lanes[:, :-1]], 1)
        if model.voicings:
            y, _ = model.hidden(steps, previous)
            lh_valid, rh_valid = model.vocab_valid()
            lh = nearest_voicing(lanes[..., :acc.LH_LANES], model.lh_vocab, lh_valid)
            rh = nearest_voicing(lanes[..., acc.LH_LANES:], model.rh_vocab, rh_valid)
            lh_logits, rh_logits = model.lh_logits(y), model.rh_logits(y, lh)
            bce = (F.cross_entropy(lh_logits.reshape(-1, LH_VOICINGS), lh.reshape(-1),
                                   reduction="none")
                   + F.cross_entropy(rh_logits.reshape(-1, RH_VOICINGS), rh.reshape(-1),
                                     reduction="none")).reshape(lh.shape)
            length_logits = model.lengths(y)
            with torch.no_grad():
                logits = torch.cat([model.lh_vocab[lh_logits.argmax(-1)],
                                    model.rh_vocab[rh_logits.argmax(-1)]], -1).float() * 2 - 1
        else:
            logits, length_logits, _ = model.texture(steps, previous)
            bce = F.binary_cross_entropy_with_logits(logits.float(), lanes,
                                                     reduction="none").sum(-1)
        lengths = batch["lengths"].long()
        has = (lengths >= 0).float() * mask[..., None]
        length_ce = F.cross_entropy(length_logits.float().reshape(-1, len(acc.DURATION_STEPS)),
                                    lengths.clamp(min=0).reshape(-1), reduction="none")
        tex = (bce * mask).sum() + (length_ce * has.reshape(-1)).sum()
        targets = batch["targets"].long()
        chord_logits = model.chords(batch["beats"].float()).float()
        valid = targets >= 0
        ce = F.cross_entropy(chord_logits.reshape(-1, acc.CHORD_CLASSES),
                             targets.clamp(min=0).reshape(-1), reduction="none")
        ce = ce * valid.reshape(-1)
        n_steps, n_beats = mask.sum().clamp(min=1), valid.sum().clamp(min=1)
        loss = tex / n_steps + ce.sum() / n_beats
        with torch.no_grad():
            predicted = (logits > 0).float() * mask[..., None]
            truth = lanes * mask[..., None]
            stats = {"nll": ce.sum() + tex / n_steps * 4 * n_beats, "count": n_beats.float(),
                     "correct": ((chord_logits.argmax(-1) == targets) & valid).sum().float(),
                     "onset_tp": (predicted * truth).sum(), "onset_fp": (predicted * (1 - truth)).sum(),
                     "onset_fn": ((1 - predicted) * truth).sum()}
        return LossOutput(loss, {k: v.detach() for k, v in stats.items()})

    # -- generation ---------------------------------------------------------------------------
    def suggest_chords(self, model: AccompanistNet, grid: acc.StepGrid, melody: np.ndarray,
                       change_cost: float | None = None) -> list[Chord]:
        """A chord per beat for a melody on `grid` (decoded with the change cost: the config's,
        unless `change_cost` is given, e.g. the card's tuned `decoding` value)."""
        cost_of_change = self.config.change_cost if change_cost is None else change_cost
        tonic, minor = melody_key(melody)
        beats = acc.beat_features(grid, melody, tonic, minor)
        with torch.inference_mode():
            model.eval()
            logp = torch.log_softmax(model.chords(torch.from_numpy(beats)[None]), -1)[0].numpy()
        cost = np.array([cost_of_change * (0.25 if grid.pos[4 * b] == 0 else
                                                    0.6 if grid.pos[4 * b] * 2 ==
                                                    grid.bar_steps[4 * b] else 1.0)
                         for b in range(len(beats))])
        path = viterbi(logp, cost)
        return [acc.class_chord(int(c), tonic) for c in path]

    def accompany(self, model: AccompanistNet, grid: acc.StepGrid, melody: np.ndarray,
                  onset: np.ndarray, chords: list[Chord | None], options: SamplingOptions,
                  velocity: int = 70, busyness: float = 0.0, bank=None
                  ) -> list[tuple[int, int, int, int]]:
        """Piano notes (pitch, start, duration, velocity) over `grid` for the melody and the
        chord of each step. `busyness` is added to the right hand's onset logits: drawn step by
        step without the real part to lean on, the model plays sparser than in training, and
        the model card's `decoding` block holds the value that brings the notes per bar of the
        validation songs back to the real parts' (benchmarks/bench_accompaniment.py --tune).

        With a `bank` (`studio.ml.bar_bank.BarBank` of the training songs) the piano plays
        bars of those songs re-voiced to these chords (temperature: how freely bars are drawn),
        velocities scaled so that `velocity` is the bank's 70; a bar whose meter the bank lacks
        makes the whole part the network's own."""
        gen = options.generator()
        if bank is not None:
            from studio.ml import bar_bank as bb

            tonic, minor = melody_key(melody)
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            choice = bb.Choice(temperature=bb.Choice.temperature * options.temperature)
            notes = bb.arrange(bank, grid, melody, onset, chords, bb.key_scale(tonic, minor),
                               rng, choice)
            if notes is not None:
                return [(p, s, d, int(np.clip(round(v * velocity / 70), 1, 127)))
                        for p, s, d, v in notes]
        out, lengths = self.draw_lanes(model, grid, melody, onset, chords, options, busyness,
                                       gen)
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        return acc.render(out, grid, chords, melody, velocity, rng, lengths, legato_left=True,
                          bass_floor=acc.BASS_FLOOR)

    def draw_lanes(self, model: AccompanistNet, grid: acc.StepGrid, melody: np.ndarray,
                   onset: np.ndarray, chords: list[Chord | None], options: SamplingOptions,
                   busyness: float = 0.0, gen: torch.Generator | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(lanes (steps, LANES) 0/1, length class of each onset or -1), drawn step by step:
        a voicings net draws the left hand's voicing, then the right hand's given it (busyness
        tilts the right hand by its number of notes, as adding it to every lane's logit does
        for the per-lane net)."""
        gen = gen if gen is not None else options.generator()
        bias = torch.zeros(acc.LANES)
        bias[acc.LH_LANES:] = busyness
        feats = torch.from_numpy(acc.step_features(grid, melody, onset, chords))[None]
        out = torch.zeros(len(grid), acc.LANES)
        lengths = torch.full((len(grid), acc.LANES), -1, dtype=torch.long)
        with torch.inference_mode():
            model.eval()
            previous, state = torch.zeros(1, 1, acc.LANES), None
            if model.voicings:  # a right hand's voicing is tilted by busyness per note
                rh_notes = model.rh_vocab.sum(-1).float()
            for i in range(len(grid)):
                if model.voicings:
                    y, state = model.hidden(feats[:, i:i + 1], previous, state)
                    lh = torch.multinomial(torch.softmax(
                        model.lh_logits(y)[0, 0] / options.temperature, -1), 1, generator=gen)
                    rh = torch.multinomial(torch.softmax(
                        (model.rh_logits(y, lh[None])[0, 0] + busyness * rh_notes)
                        / options.temperature, -1), 1, generator=gen)
                    lanes = torch.cat([model.lh_vocab[lh[0]], model.rh_vocab[rh[0]]]).float()
                    length_logits = model.lengths(y)
                else:
                    logits, length_logits, state = model.texture(feats[:, i:i + 1], previous,
                                                                 state)
                    p = torch.sigmoid((logits[0, 0].float() + bias) / options.temperature)
                    lanes = (torch.rand(acc.LANES, generator=gen) < p).float()
                if chords[i] is None:
                    lanes.zero_()
                out[i] = lanes
                if lanes.any():
                    probs = torch.softmax(length_logits[0, 0].float() / options.temperature, -1)
                    lengths[i] = torch.multinomial(probs, 1, generator=gen)[:, 0]
                previous = lanes[None, None]
        return out.numpy(), lengths.numpy()


def viterbi(logp: np.ndarray, change_cost: np.ndarray) -> np.ndarray:
    """The best class path through per-beat log-probabilities (beats, classes) when moving to
    another class at beat b costs `change_cost[b]`."""
    n, k = logp.shape
    if n == 0:
        return np.zeros(0, np.int64)
    score = logp[0].copy()
    back = np.zeros((n, k), np.int64)
    for b in range(1, n):
        best = int(score.argmax())
        stay, move = score, score[best] - change_cost[b]
        back[b] = np.where(stay >= move, np.arange(k), best)
        score = np.maximum(stay, move) + logp[b]
    path = np.zeros(n, np.int64)
    path[-1] = int(score.argmax())
    for b in range(n - 1, 0, -1):
        path[b - 1] = back[b, path[b]]
    return path



def covering_chords(grid: acc.StepGrid, melody: np.ndarray, change_cost: float) -> list[Chord]:
    """The simple baseline of the chord suggestion (what the model must beat): on each beat the
    major or minor chord whose tones best cover the beat's melody (weight on its tones minus the
    rest), decoded with the same Viterbi and the same change costs as the model's suggestion
    (cheaper on the bar line and mid-bar)."""
    w = acc.beat_features(grid, melody, 0, False)[:, :12]
    score = np.zeros((len(w), 24))
    for r in range(12):
        for q, tones in enumerate(((0, 4, 7), (0, 3, 7))):
            inside = w[:, [(r + i) % 12 for i in tones]].sum(1)
            score[:, 2 * r + q] = 4 * (inside - (w.sum(1) - inside)) + 0.04 * (q == 0)
    logp = score - np.log(np.exp(score).sum(1, keepdims=True))
    pos, full = grid.pos[::4][:len(w)], grid.bar_steps[::4][:len(w)]
    cost = change_cost * np.where(pos == 0, 0.25, np.where(pos * 2 == full, 0.6, 1.0))
    return [Chord(int(c) // 2, "min" if c % 2 else "maj") for c in viterbi(logp, cost)]
