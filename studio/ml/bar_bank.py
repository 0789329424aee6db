"""Bars from the training songs' own piano parts, re-voiced to another song's chords.

The accompanist's texture network draws its voicings from chord tones on a 16th grid, which a
listener (and the style critic) tells from a pianist's part: no passing notes, no played timing,
no figure that a pianist keeps through a passage. A bar bank holds every full bar of the
training songs' piano parts as played (onset and length in grid steps, fractions kept), each
note with its place in the chord it sounded over: root, third, fifth, seventh, or a note outside
the chord (its interval above the root). To accompany a new song, bars are chosen from the bank
(`choose_bars`: bars whose chords are the new bar's up to transposition where the bank has them,
else of the same chord layout; the melody in a near register and as busy; one pianist's song
for the whole part where it has a bar that fits), and each note is re-voiced to the new chord
(`BarBank.revoice`): chord tones to the new chord's same tone (for a bar of the same chords,
a transposition), notes outside the chord kept at their interval above the new root (moved a
semitone into the key when that leaves the key), the register kept within a tritone of the
original. Then the accompanist's rules against the melody
(`fit_to_melody`): right-hand notes stay under the melody note they are struck with and never a
semitone or a major seventh from it.

This is the phrase-retrieval idea of AccoMontage (Zhao and Xia, ISMIR 2021), without its learned
re-voicing. Ranking the candidates by the texture network's likelihood was measured and left
out: it prefers sparse bars (notes per bar 12.4 -> 9.3) and the style critic tells the parts
apart more easily (benchmarks: BENCHMARKS.md). The bank needs the training songs at hand (the
built-in POP909's ships ready-made; a user's dataset while it exists), so a model whose songs
are gone plays its own voicings as before.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from studio.ml import accompaniment as acc
from studio.ml.errors import is_unreadable_piece
from studio.music.chords import Chord

if TYPE_CHECKING:
    from studio.data import Dataset

ROLE_OTHER = 4  # a note outside the chord: kept at its interval above the root
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)


def _roles(chord: Chord) -> dict[int, int]:
    """Interval above the root -> role (0 root, 1 third, 2 fifth, 3 seventh or sixth)."""
    iv = acc._intervals(chord)
    out = {0: 0, iv[1] % 12: 1, iv[2] % 12: 2}
    if iv[3] < 12:
        out[iv[3]] = 3
    return out


_ROLES: dict[Chord | None, np.ndarray] = {}


def _role_row(chord: Chord | None) -> np.ndarray:
    """The role of each interval above the chord's root (all ROLE_OTHER without a chord)."""
    row = _ROLES.get(chord)
    if row is None:
        row = np.full(12, ROLE_OTHER, np.int64)
        for iv, role in (_roles(chord).items() if chord is not None else ()):
            row[iv] = role
        _ROLES[chord] = row
    return row


def layout(chords: list[Chord | None]) -> tuple[int, ...]:
    """The steps of a bar where its chord changes (the first step always counts)."""
    return tuple(i for i, c in enumerate(chords) if i == 0 or c != chords[i - 1])


def harmony(chords: list[Chord]) -> int:
    """A number naming a bar's chords up to transposition: where each chord starts, its root
    above the bar's first root, its quality and its bass (a bar moves onto another bar of the
    same number by transposing every note alike)."""
    first = chords[0].root
    text = ";".join(
        f"{i},{(chords[i].root - first) % 12},{chords[i].quality},"
        f"{-1 if chords[i].bass is None else (chords[i].bass - chords[i].root) % 12}"
        for i in layout(chords))
    return zlib.crc32(text.encode())


@dataclass
class BarBank:
    """Arrays of the bank's notes and bars.

    Notes: `onset`, `length` (grid steps from the bar's first step, fractions kept), `pitch`,
    `velocity`, `root` (pitch of the source chord's root at or below the note), `interval`
    (semitones above that root), `role` (0-3 a chord tone, ROLE_OTHER outside the chord).
    Bars: `first`, `last` (their notes are first:last), `steps` (steps of the bar), `song`,
    `number` (bar index in its song), `layout` (steps where the chord changes, as a bit mask),
    `melody_pitch` (mean melody pitch, 0 without melody), `melody_onsets`, `bar_root` (pitch
    class of the bar's first chord), `step_ticks` (ticks per grid step: 16ths, or 32nds in
    6/8), `harmony` (the bar's chords up to transposition, `harmony()`).
    """

    onset: np.ndarray
    length: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    root: np.ndarray
    interval: np.ndarray
    role: np.ndarray
    first: np.ndarray
    last: np.ndarray
    steps: np.ndarray
    song: np.ndarray
    number: np.ndarray
    layout: np.ndarray
    melody_pitch: np.ndarray
    melody_onsets: np.ndarray
    bar_root: np.ndarray
    step_ticks: np.ndarray
    harmony: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    def plays(self, grid: acc.StepGrid) -> bool:
        """Whether the bank holds bars of every meter (steps and step length) of the grid."""
        have = set(zip(self.steps.tolist(), self.step_ticks.tolist()))
        return all((int(grid.bar_steps[a]), int(grid.ticks[a + 1] - grid.ticks[a])) in have
                   for a, _, _ in bar_spans(grid))

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> BarBank:
        """From `arrays()` (ValueError when one is missing or the bars and notes disagree)."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in arrays]
        if missing:
            raise ValueError(f"a bar bank without {', '.join(missing)}")
        bank = cls(**{n: np.asarray(arrays[n]) for n in names})
        notes, bars = names[:names.index("first")], names[names.index("first"):]
        if len({len(getattr(bank, n)) for n in notes}) > 1 or \
                len({len(getattr(bank, n)) for n in bars}) > 1:
            raise ValueError("a bar bank whose arrays differ in length")
        if len(bank) and (bank.last.max() > len(bank.onset) or bank.first.min() < 0
                          or (bank.first > bank.last).any()):
            raise ValueError("a bar bank whose bars point past its notes")
        if len(bank.onset) and not (
                np.isfinite(bank.onset).all() and np.isfinite(bank.length).all()
                and bank.role.min() >= 0 and bank.role.max() <= ROLE_OTHER
                and bank.interval.min() >= 0 and bank.interval.max() <= 11
                and bank.pitch.min() >= 0 and bank.pitch.max() <= 127):
            raise ValueError("a bar bank with notes out of range")
        if len(bank) and (bank.steps.min() < 1 or bank.step_ticks.min() < 1):
            raise ValueError("a bar bank with empty bars")
        return bank

    def save(self, path: Path, fingerprint: str) -> None:
        np.savez_compressed(path, fingerprint=np.array(fingerprint), **self.arrays())

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> BarBank | None:
        """The bank saved at `path` for the dataset of this fingerprint (None: absent, another
        dataset's, or unreadable; arrays only, never a pickle)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["fingerprint"]) != fingerprint:
                    return None
                return cls.from_arrays({k: z[k] for k in z.files})
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
            return None

    @classmethod
    def from_songs(cls, songs: list[tuple[np.ndarray, np.ndarray, acc.StepGrid,
                                          list[Chord | None]]]) -> BarBank:
        """From (melody rows, piano rows (n, >=4) pitch/start/duration/velocity, grid, chord
        per step) of each song; a bar counts when every step has a chord and the piano plays
        in it."""
        notes: list[np.ndarray] = []
        bars: list[list[float]] = []
        count = 0
        for k, (melody_rows, piano, grid, chords) in enumerate(songs):
            if not len(piano) or not len(grid):
                continue
            melody, onset = acc.melody_steps(melody_rows, grid)
            starts = grid.nearest(piano[:, 1])
            order = np.argsort(starts, kind="stable")
            piano, starts = piano[order, :4].astype(np.float64), starts[order]
            roots = np.array([-1 if c is None else c.root for c in chords])
            roles = np.array([_role_row(c) for c in chords])
            step = np.diff(grid.ticks).astype(np.float64)
            iv = (piano[:, 0].astype(np.int64) - roots[starts]) % 12
            bar_first = np.flatnonzero(np.r_[True, grid.bar[1:] != grid.bar[:-1]])
            bounds = np.r_[bar_first, len(grid)]
            for b in range(len(bar_first)):
                a, e = int(bounds[b]), int(bounds[b + 1])
                if e - a != grid.bar_steps[a] or (roots[a:e] < 0).any():
                    continue
                lo, hi = np.searchsorted(starts, [a, e])
                if hi <= lo:
                    continue
                rows = piano[lo:hi]
                block = np.empty((hi - lo, 7))
                block[:, 0] = (rows[:, 1] - grid.ticks[a]) / step[a]
                block[:, 1] = rows[:, 2] / step[a]
                block[:, 2] = rows[:, 0]
                block[:, 3] = rows[:, 3]
                block[:, 4] = rows[:, 0] - iv[lo:hi]
                block[:, 5] = iv[lo:hi]
                block[:, 6] = roles[starts[lo:hi], iv[lo:hi]]
                notes.append(block)
                m = melody[a:e]
                bars.append([count, count + hi - lo, e - a, k, b,
                             sum(1 << i for i in layout(chords[a:e])),
                             float(m[m >= 0].mean()) if (m >= 0).any() else 0.0,
                             int(onset[a:e].sum()), chords[a].root, step[a],
                             harmony(chords[a:e])])
                count += hi - lo
        n = np.concatenate(notes).astype(np.float32) if notes else np.zeros((0, 7), np.float32)
        t = np.array(bars, np.float64).reshape(-1, 11)
        return cls(n[:, 0], n[:, 1], n[:, 2].astype(np.int16), n[:, 3].astype(np.int16),
                   n[:, 4].astype(np.int16), n[:, 5].astype(np.int8), n[:, 6].astype(np.int8),
                   t[:, 0].astype(np.int64), t[:, 1].astype(np.int64),
                   t[:, 2].astype(np.int64), t[:, 3].astype(np.int64),
                   t[:, 4].astype(np.int64), t[:, 5].astype(np.int64),
                   t[:, 6].astype(np.float32), t[:, 7].astype(np.int64),
                   t[:, 8].astype(np.int64), t[:, 9].astype(np.int64),
                   t[:, 10].astype(np.int64))

    @classmethod
    def from_dataset(cls, dataset: Dataset, melody_track: str = "MELODY",
                     accompaniment_track: str = "PIANO") -> BarBank:
        """The bars of a dataset's train split: POP909 songs with their annotated chords and
        beats; a user's pieces by the tracks whose names start with `melody_track` and
        `accompaniment_track`, with the chords their accompaniment spells (pieces without
        them, unreadable ones and meters the grid cannot read are left out)."""
        songs = []
        for p in dataset.split("train"):
            try:
                material = acc.piece_material(p, melody_track, accompaniment_track)
            except Exception as err:  # an unreadable piece is left out
                if not is_unreadable_piece(err):
                    raise
                continue
            if material is not None:
                songs.append(material)
        return cls.from_songs(songs)

    # -- re-voicing ------------------------------------------------------------------------
    def revoice(self, index: int, chords: list[Chord | None], scale: set[int],
                offset: int = 0) -> list[tuple[int, float, float, int]]:
        """(pitch, onset, length, velocity) of bank bar `index` over a bar with these chords
        (one per step; `offset`: the bar's first `offset` steps are missing, as in a pickup),
        onsets and lengths in steps from the target's first step. `scale`: the target key's
        pitch classes."""
        out = []
        a, e = int(self.first[index]), int(self.last[index])
        n = len(chords) + offset
        for j in range(a, e):
            at = float(self.onset[j])
            step = int(np.clip(round(at), 0, n - 1))
            if step < offset:
                continue
            target = chords[step - offset]
            if target is None:
                continue
            src_root = int(self.root[j]) % 12
            shift = (target.root - src_root + 6) % 12 - 6
            role = int(self.role[j])
            if role == ROLE_OTHER:
                iv = int(self.interval[j])
                pc = (target.root + iv) % 12
                if pc not in scale and pc not in target.pitch_classes:
                    iv += -1 if (pc - 1) % 12 in scale else 1
            else:
                ivs = acc._intervals(target)
                iv = ivs[role] if role < 3 or ivs[3] < 12 else (
                    next((x for x in (10, 11, 9) if (target.root + x) % 12 in scale), 12))
            pitch = int(self.root[j]) + shift + iv
            out.append((pitch, at - offset, float(self.length[j]), int(self.velocity[j])))
        return out


def key_scale(tonic: int, minor: bool) -> set[int]:
    return {(tonic + x) % 12 for x in (MINOR_SCALE if minor else MAJOR_SCALE)}


def fit_to_melody(notes: list[tuple[int, float, float, int]], grid: acc.StepGrid,
                  start: int, chords: list[Chord | None], melody: np.ndarray,
                  bass_floor: int = acc.BASS_FLOOR) -> list[tuple[int, int, int, int]]:
    """(pitch, start tick, duration ticks, velocity) of re-voiced notes of the bar whose first
    step is `start`: a note is cut at the next chord change that leaves it outside the chord;
    right-hand notes are kept under the melody (down an octave while that stays in the right
    hand, else left out) and left out a semitone or a major seventh from it; a left-hand note
    that would clash plays the chord's root; the bass at or above `bass_floor`."""
    out = []
    s = len(grid)
    for pitch, at, length, velocity in notes:
        i = int(np.clip(start + round(at), 0, s - 1))
        end_step = min(s, max(i + 1, start + int(np.ceil(at + length - 1e-3))))
        c = chords[i]
        for k in range(i + 1, end_step):  # held into a chord it leaves: cut
            if chords[k] != c and chords[k] is not None and \
                    pitch % 12 not in chords[k].pitch_classes:
                end_step = k
                break
        step = float(grid.ticks[min(i + 1, s)] - grid.ticks[i])
        # a note played a little early starts on its bar line (the bar before may be silent)
        tick = max(int(round(grid.ticks[start] + at * step)), int(grid.ticks[start]))
        end = int(grid.ticks[end_step]) if end_step < s else int(grid.ticks[-1])
        end = min(end, int(round(grid.ticks[start] + (at + length) * step)))
        sounding = melody[i:i + 1]  # the melody note the piano note is struck against
        sounding = sounding[sounding >= 0]
        clash = any((pitch - m) % 12 in (1, 11) for m in set(sounding.tolist()))
        if pitch >= acc.SPLIT_PITCH:
            if len(sounding):
                while pitch >= sounding.min() - 1 and pitch - 12 >= acc.SPLIT_PITCH:
                    pitch -= 12
                if clash or pitch >= sounding.min() - 1:
                    continue
        else:
            if clash and c is not None:
                pitch = acc._bases(c)[0]
            while pitch < bass_floor:
                pitch += 12
        out.append((int(pitch), tick, max(1, end - tick), int(np.clip(velocity, 1, 127))))
    return out


@dataclass
class Choice:
    """How bars are chosen: candidates are the bank's bars of the same length and grid whose
    chords are the new bar's up to transposition (`harmony`; when none is, those of the same
    chord layout, the steps where the chord changes), `candidates` of them drawn at random,
    plus every bar of the same layout from the song chosen before (a part keeps one pianist's
    texture) and the next bar of that song. Each is scored by how near its melody's register is
    to this bar's after the move to the new chord (`register`, per octave), how near its
    melody's number of onsets (`busy`, per onset), `revoiced` against a bar whose chords are
    not the new bar's (its notes are re-voiced to them, not just transposed), `carry_on` for
    the next bar of the same song (at most `longest` bars in a row), `same_song` for any bar
    of the song chosen before; then drawn with `temperature`. The values were chosen with the
    style critic on POP909's validation songs (benchmarks/bench_bar_choice.py)."""

    candidates: int = 256
    register: float = 1.0
    busy: float = 0.15
    revoiced: float = 3.0
    carry_on: float = 0.0
    same_song: float = 10.0
    longest: int = 4
    temperature: float = 0.25


def bar_spans(grid: acc.StepGrid) -> list[tuple[int, int, int]]:
    """(first step, end step, missing steps at the start) of each bar of the grid (a long bar,
    7/4 or an annotated bar of 12 beats, is read in groups of four beats, as the grid reads
    it)."""
    firsts = np.flatnonzero(np.r_[True, (grid.bar[1:] != grid.bar[:-1]) | (grid.pos[1:] == 0)])
    ends = np.r_[firsts[1:], len(grid)]
    return [(int(a), int(e), int(grid.pos[a])) for a, e in zip(firsts, ends)]


def choose_bars(bank: BarBank, grid: acc.StepGrid, melody: np.ndarray, onset: np.ndarray,
                chords: list[Chord | None], rng: np.random.Generator,
                choice: Choice | None = None) -> list[int] | None:
    """A bank bar for each bar of the grid (-1: a bar without chords), or None when a bar's
    meter is not in the bank. The melody's register is compared after moving the bar to the
    new chord's root (within a tritone, as `revoice` does)."""
    choice = choice or Choice()
    out: list[int] = []
    previous, run = -1, 0
    for a, e, missing in bar_spans(grid):
        steps = int(grid.bar_steps[a])
        step_ticks = int(grid.ticks[a + 1] - grid.ticks[a])
        bar_chords = chords[a:e]
        if all(c is None for c in bar_chords):
            out.append(-1)
            previous = -1
            continue
        same = np.flatnonzero((bank.steps == steps) & (bank.step_ticks == step_ticks))
        if not len(same):
            return None
        head = next(c for c in bar_chords if c is not None)
        full = [head] * missing + [c or head for c in bar_chords]
        mask = sum(1 << i for i in layout(full))
        fit = same[bank.layout[same] == mask]
        pool = fit if len(fit) else same
        key = harmony(full)
        exact = pool[bank.harmony[pool] == key]
        if len(exact):
            pool = exact
        pick = rng.choice(pool, min(choice.candidates, len(pool)), replace=False)
        if previous >= 0:  # the song before: every bar of it that fits
            kin = fit if len(fit) else pool
            pick = np.union1d(pick, kin[bank.song[kin] == bank.song[previous]])
        if previous >= 0 and previous + 1 < len(bank) and \
                bank.song[previous + 1] == bank.song[previous] and \
                bank.number[previous + 1] == bank.number[previous] + 1 and \
                bank.steps[previous + 1] == steps and \
                bank.step_ticks[previous + 1] == step_ticks and previous + 1 not in pick:
            pick = np.r_[pick, previous + 1]
        m = melody[a:e]
        s = np.zeros(len(pick))
        if (m >= 0).any():
            mean = float(m[m >= 0].mean())
            shift = (full[0].root - bank.bar_root[pick] + 6) % 12 - 6
            has = bank.melody_pitch[pick] > 0
            gap = mean - (bank.melody_pitch[pick] + shift)
            s -= choice.register * np.where(has, np.abs(gap) / 12, 1)
        s -= choice.busy * np.abs(bank.melody_onsets[pick] - int(onset[a:e].sum()))
        if previous >= 0:
            if not choice.longest or run < choice.longest:
                s += choice.carry_on * (pick == previous + 1)
            s += choice.same_song * (bank.song[pick] == bank.song[previous])
        if not len(fit):
            s -= 2.0
        s -= choice.revoiced * (bank.harmony[pick] != key)
        p = np.exp((s - s.max()) / max(choice.temperature, 1e-3))
        chosen = int(pick[rng.choice(len(pick), p=p / p.sum())])
        run = run + 1 if previous >= 0 and chosen == previous + 1 else 1
        previous = chosen
        out.append(previous)
    return out


def arrange(bank: BarBank, grid: acc.StepGrid, melody: np.ndarray, onset: np.ndarray,
            chords: list[Chord | None], scale: set[int], rng: np.random.Generator,
            choice: Choice | None = None) -> list[tuple[int, int, int, int]] | None:
    """Piano notes (pitch, start tick, duration, velocity) for the melody from the bank's bars
    re-voiced to `chords` (one per step), or None when a bar's meter is not in the bank."""
    picks = choose_bars(bank, grid, melody, onset, chords, rng, choice)
    if picks is None:
        return None
    out: list[tuple[int, int, int, int]] = []
    for (a, e, missing), index in zip(bar_spans(grid), picks):
        if index < 0:
            continue
        bar_chords = [c or next(x for x in chords[a:e] if x is not None) for c in chords[a:e]]
        notes = bank.revoice(index, bar_chords, scale, missing)
        out.extend(fit_to_melody(notes, grid, a, chords, melody))
    return sorted(set(out), key=lambda n: (n[1], n[0]))
