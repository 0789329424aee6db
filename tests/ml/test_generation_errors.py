"""Bad input gets a clear GenerationError and leaves the song untouched; cancel stops cleanly
and returns what is done; the model list and defaults the panel offers."""

from __future__ import annotations

import shutil

import pytest

from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation import (
    GenerationRequest,
    ModelUnavailableError,
    available_models,
    default_model,
    generate,
)
from studio.music.song import Note, Song, Track
from tests.ml.generation_testing import BAR, chorale_song, melody_song, snapshot


def refused(request: GenerationRequest, *words: str) -> str:
    before = snapshot(request.song)
    with pytest.raises(GenerationError) as info:
        generate(request)
    assert snapshot(request.song) == before
    message = str(info.value)
    for w in words:
        assert w in message, message
    return message


def test_bad_selections_are_refused_with_a_reason():
    song = melody_song(0, 8)
    tid = song.tracks[0].id
    refused(GenerationRequest("harmonize", "cnn-harmonizer", song, ()), "select the melody")
    refused(GenerationRequest("harmonize", "cnn-harmonizer", song, (tid,),
                              time_range=(40 * BAR, 41 * BAR)), "no notes in the selected")
    refused(GenerationRequest("harmonize", "cnn-harmonizer", song, (tid,),
                              time_range=(0, 80 * BAR)), "at most 64 bars")
    refused(GenerationRequest("harmonize", "cnn-harmonizer", song, (tid,),
                              time_range=(BAR, BAR)), "empty")
    refused(GenerationRequest("harmonize", "cnn-harmonizer", song, (424242,)), "not in the song")
    refused(GenerationRequest("infill", "cnn-harmonizer", song, (tid,)), "region")
    refused(GenerationRequest("continue", "lstm-melody", song, (tid,), playhead=0),
            "no notes in the")
    refused(GenerationRequest("interpolate", "lstm-melody", song, (tid,)), "cannot interpolate between melodies")
    refused(GenerationRequest("melody", "lstm-melody", song, bars=0), "1 to 64 bars")
    refused(GenerationRequest("melody", "lstm-melody", song, key=(0, False),
                              pitch_range=(61, 61)), "widen the pitch range")
    refused(GenerationRequest("melody", "lstm-melody", song,
                              options=SamplingOptions(temperature=0)), "temperature")
    refused(GenerationRequest("sing", "lstm-melody", song), "unknown generation mode")


def test_drum_tracks_and_wrong_families_are_refused():
    song = Song(tracks=[Track("Drums", is_drum=True, channel=9, notes=[Note(36, 0, 120)])])
    refused(GenerationRequest("harmonize", "cnn-harmonizer", song, (song.tracks[0].id,)),
            "drum track")
    melody = melody_song(1, 4)
    refused(GenerationRequest("harmonize", "lstm-melody", melody, (melody.tracks[0].id,)),
            "cannot harmonize a melody", "it can: melody, continue")
    refused(GenerationRequest("melody", "cnn-harmonizer", melody), "cannot write a new melody")


def test_missing_unknown_and_tampered_model_files(tmp_path):
    song = melody_song(2, 4)
    tid = song.tracks[0].id
    refused(GenerationRequest("harmonize", "no-such-model", song, (tid,)), "no model called")
    refused(GenerationRequest("harmonize", str(tmp_path / "gone.safetensors"), song, (tid,)),
            "no such model file")
    from studio.paths import SHIPPED_MODELS_DIR

    for suffix in (".safetensors", ".json"):
        shutil.copy(SHIPPED_MODELS_DIR / f"cnn-harmonizer{suffix}", tmp_path / f"cnn{suffix}")
    weights = tmp_path / "cnn.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF  # one weight changed
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailableError, match="do not match their card"):
        generate(GenerationRequest("harmonize", str(weights), song, (tid,)))
    weights.unlink()
    with pytest.raises(ModelUnavailableError, match="missing"):
        generate(GenerationRequest("harmonize", str(weights), song, (tid,)))


def test_cancel_returns_the_finished_candidates():
    song = melody_song(3, 4)
    request = GenerationRequest("harmonize", "cnn-harmonizer", song, (song.tracks[0].id,),
                                options=SamplingOptions(seed=1, count=3))
    got = []
    out = generate(request, on_candidate=got.append, cancel=lambda: len(got) >= 1)
    assert [c.index for c in out] == [0] and got == out
    assert generate(request, cancel=lambda: True) == []
    calls = []

    def cancel_inside() -> bool:  # checked between Gibbs passes too
        calls.append(1)
        return len(calls) > 4

    assert generate(request, cancel=cancel_inside) == []
    assert len(calls) == 5  # stopped at the first check that said so, inside the first one


def test_models_offered_per_mode():
    names = {e.name for e in available_models("harmonize")}
    assert "cnn-harmonizer" in names and "lstm-melody" not in names
    assert default_model("harmonize") == "cnn-harmonizer"
    assert default_model("melody") == "lstm-melody"
    assert default_model("continue") == "lstm-melody"
    assert default_model("infill") == "cnn-harmonizer"
    assert all("melody" in e.modes for e in available_models("melody"))


def test_infill_needs_tracks_that_are_voices():
    song = chorale_song(0, 4)
    song.tracks.append(Track("Piano", notes=[Note(60, 0, 480)]))  # a fifth part
    refused(GenerationRequest("infill", "cnn-harmonizer", song, (song.tracks[-1].id,),
                              (0, BAR)), "not among the four voices")


def test_a_users_model_whose_dataset_is_gone_still_generates(tmp_path, jsb_tiny):
    """A model trained on a dataset that is no longer there: the music comes, originality and
    style say they could not be checked."""
    from studio.ml.registry import create_family
    from studio.ml.train_config import TrainConfig
    from studio.ml.trainer import Trainer
    from tests.ml.conftest import TINY_CNN

    family = create_family("cnn", TINY_CNN)
    Trainer(family, jsb_tiny, TrainConfig(epochs=1, steps_per_epoch=2, batch_size=8),
            output=tmp_path / "mine").run()
    song = melody_song(4, 2)
    (c,) = generate(GenerationRequest("harmonize", str(tmp_path / "mine.safetensors"), song,
                                      (song.tracks[0].id,), options=SamplingOptions(seed=1)))
    assert len(c.new_track_ids) == 3
    assert c.originality.verdict.startswith("not checked") and c.style is None
