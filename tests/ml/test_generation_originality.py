"""The originality check: exact longest shared runs (against brute force), transposed copies
found with their piece, verdicts on real chorale lines."""

from __future__ import annotations

import numpy as np

from studio.data import load_dataset
from studio.ml.generation.models import load, originality_index
from studio.ml.generation.originality import OriginalityIndex, SuffixAutomaton, symbols
from studio.music.song import Note
from studio.music.tokens import pitches_to_tokens, tokens_to_track


def brute_force(text: list, query: list) -> int:
    best = 0
    for i in range(len(query)):
        for j in range(len(text)):
            k = 0
            while i + k < len(query) and j + k < len(text) and query[i + k] == text[j + k]:
                k += 1
            best = max(best, k)
    return best


def test_suffix_automaton_finds_the_longest_common_run():
    rng = np.random.default_rng(0)
    for _ in range(30):
        text = rng.integers(0, 3, rng.integers(1, 60)).tolist()
        query = rng.integers(0, 3, rng.integers(1, 30)).tolist()
        sam = SuffixAutomaton()
        for c in text:
            sam.add(c)
        length, stop, end = sam.longest_match(query)
        assert length == brute_force(text, query)
        if length:
            assert query[stop - length:stop] == text[end - length + 1:end + 1]


def line(pitches, start=0, step=240):
    return [Note(p, start + i * step, step) for i, p in enumerate(pitches)]


def test_transposed_copy_is_found_with_its_piece_and_runs_stay_in_one_line():
    index = OriginalityIndex([("a", line([60, 62, 64, 65, 67])), ("b", line([70, 69, 67, 65]))])
    copy = index.check([line([62, 64, 66, 67, 69], start=960)])  # "a" up a tone
    assert (copy.longest_run, copy.piece, copy.span) == (5, "a", (960, 960 + 5 * 240))
    # the end of "a" followed by the start of "b" is not a run of the training set
    across = index.check([line([65, 67, 70, 69])])
    assert across.longest_run == 2
    rhythm = index.check([[Note(60, 0, 240), Note(62, 240, 480), Note(64, 720, 240)]])
    assert rhythm.longest_run <= 2  # same pitches, another rhythm
    assert index.check([]).verdict == "no new notes to compare"


def test_verdicts_on_real_chorale_lines():
    index = originality_index(load("cnn-harmonizer"))
    jsb = load_dataset("jsb")
    train = jsb.split("train")[7]
    alto = tokens_to_track(pitches_to_tokens(train.satb[:, 1] + 5)).notes  # transposed copy
    copied = index.check([alto])
    assert copied.copied and copied.piece == train.name and copied.longest_run == len(alto)
    test = jsb.split("test")[0]
    tenor = tokens_to_track(pitches_to_tokens(test.satb[:, 2])).notes
    own = index.check([tenor])
    assert not own.copied and own.longest_run < len(tenor) // 2
    assert len(symbols(tenor)) == len(tenor) - 1


def test_piano_parts_are_judged_beside_real_pop909_parts():
    """The accompanist's verdicts: a real POP909 test song's piano part (its first 32 bars)
    mostly shares no more with the training songs than usual for piano parts, a training
    song's own part is a copy."""
    from studio.data.pop909 import pop909_song
    from studio.ml.generation.models import load, originality_index
    from studio.ml.generation.run_index import PIANO_STYLE_RUN

    index = originality_index(load("pop-accompanist"))
    assert index.style_run == PIANO_STYLE_RUN

    def part(number: int) -> list[Note]:
        s = pop909_song(number)
        first = int(s.beats[s.downbeats][0])
        rows = s.track_notes(2)
        rows = rows[(rows[:, 1] >= first) & (rows[:, 1] < first + 32 * 1920)]
        return [Note(int(p), int(t), int(d), int(v)) for p, t, d, v in rows]

    from studio.data.pop909 import pop909_songs

    tests = [s.number for s in pop909_songs() if s.split == "test"][:10]
    verdicts = [index.check([part(n)]).verdict for n in tests]
    assert sum(v.startswith("original") for v in verdicts) >= 8, verdicts
    train = next(s.number for s in pop909_songs() if s.split == "train")
    assert index.check([part(train)]).verdict.startswith("copies")
