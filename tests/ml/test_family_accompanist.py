"""The accompanist family: its representation on real POP909 songs, training on a user's own
multi-track pieces (chords recognised from the accompaniment), chord decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.data.dataset import Dataset, Piece
from studio.data.pop909 import pop909_song
from studio.ml import accompaniment as acc
from studio.ml.errors import DatasetTooSmallError
from studio.ml.families.accompanist import Accompanist, AccompanistConfig, viterbi
from studio.music.chords import parse_label
from studio.music.timing import meter_from_downbeats


def test_the_piano_lanes_hold_most_of_a_real_piano_part():
    s = pop909_song(30)
    sigs = meter_from_downbeats(s.beats, s.downbeats)
    grid = acc.grid_for(sigs, 0, int(s.beats[-1]))
    chords = acc.chords_per_step([(a, b, parse_label(x)) for a, b, x in s.chords], grid)
    melody, onset = acc.melody_steps(s.track_notes(0)[:, :3], grid)
    real = s.track_notes(2)[:, :3]
    lanes, lengths = acc.piano_lanes(real, grid, chords, durations=True)
    rendered = acc.render(lanes, grid, chords, melody, durations=lengths)
    same = {(p, t) for p, t, _, _ in rendered} & {(p, t) for p, t, _ in real.tolist()}
    assert len(same) > 0.75 * len(real)  # the lanes keep three quarters of the notes exactly
    assert len(rendered) > 0.85 * len(real)
    real_lengths = {(p, t): d for p, t, d in real.tolist()}
    ratio = [d / real_lengths[(p, t)] for p, t, d, _ in rendered if (p, t) in real_lengths]
    assert 0.6 < np.median(ratio) < 1.5  # and their lengths, to a length class


def _user_dataset(names=("Melody", "Piano")) -> Dataset:
    """Three POP909 songs as a user's own files would be: plain songs, no annotations."""
    pieces = []
    for i, (n, split) in enumerate(((30, "train"), (40, "valid"), (50, "test"))):
        song = pop909_song(n).song()
        song.tracks = [song.tracks[0], song.tracks[2]]
        song.tracks[0].name, song.tracks[1].name = names
        pieces.append(Piece(f"mine {i}", split, f"/music/{i}.mid", None, {},
                            lambda s=song: s))
    return Dataset("mine", pieces)


def test_trains_on_a_users_own_tracks_with_recognised_chords():
    torch.manual_seed(0)
    fam = Accompanist(AccompanistConfig(hidden=32, window=64, melody_track="melody",
                                        accompaniment_track="piano"))
    ex = fam.examples(_user_dataset(), "train", training=True)
    assert len(ex) >= 12  # four-bar excerpts of one song
    assert ex.tensors["steps"].shape[1:] == (64, acc.STEP_FEATURES)
    assert (ex.tensors["targets"] >= 0).float().mean() > 0.9  # chords found on most beats
    model = fam.build()
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    batch = ex.batch(slice(0, 16))
    first = fam.loss(model, batch).loss.item()
    for _ in range(30):
        opt.zero_grad()
        out = fam.loss(model, batch)
        out.loss.backward()
        opt.step()
    assert out.loss.item() < 0.8 * first
    assert {"nll", "count", "correct"} <= set(out.stats)


def test_pieces_without_the_named_tracks_are_explained():
    fam = Accompanist(AccompanistConfig(melody_track="Vocals", accompaniment_track="Keys"))
    with pytest.raises(DatasetTooSmallError, match="'Vocals'.*'Keys'"):
        fam.examples(_user_dataset(), "train", training=True)


def test_chord_decoding_charges_for_changes():
    logp = np.log(np.array([[0.9, 0.1], [0.4, 0.6], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]]))
    assert viterbi(logp, np.zeros(5)).tolist() == [0, 1, 0, 1, 1]
    assert viterbi(logp, np.full(5, 1.0)).tolist() == [0, 0, 0, 1, 1]
