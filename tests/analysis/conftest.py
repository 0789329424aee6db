"""Real data for the analysis tests: a JSB subset and the piano pieces of the shared MIDI folder
(read once per session)."""

from __future__ import annotations

import pytest

from studio.midi import read_song
from studio.ml.analysis.corpus import corpus_from_dataset, corpus_from_songs
from tests.conftest import MIDI_DIR

PIANO_FILES = [*sorted((MIDI_DIR / "debussy").glob("*.mid")),
               *sorted((MIDI_DIR / "bach").glob("*.mid")),
               MIDI_DIR / "joplin" / "TheEntertainer.mid", MIDI_DIR / "tchaikovsky_seasons.mid"]


@pytest.fixture(scope="session")
def piano_corpus():
    return corpus_from_songs("piano", [(p.stem, read_song(p)) for p in PIANO_FILES])


@pytest.fixture(scope="session")
def jsb_corpus():
    return corpus_from_dataset("jsb", limit=60)
