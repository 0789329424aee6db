"""The style map on real music: transposed copies land together with the invariant features,
styles form regions, new songs can be placed; and clear refusals."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from studio.ml.analysis.corpus import AnalysisItem, corpus_from_songs, items
from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.features import HandcraftedFeatures
from studio.ml.analysis.style_map import available_methods, build_style_map
from studio.music.operations import transpose

SHIFTS = (2, -3, 5)


@pytest.fixture(scope="module")
def with_copies(jsb_corpus, piano_corpus):
    """Whole pieces: 30 chorales, 8 piano pieces, and transposed copies of 4 of them."""
    base = items([corpus_from_songs("jsb", jsb_corpus.pieces[:30]),
                  corpus_from_songs("piano", piano_corpus.pieces[:8])], segment_bars=None)
    originals = [base[0], base[7], base[31], base[34]]
    copies = [AnalysisItem(f"{o.name} {s:+d}", o.label, transpose(o.song, s), o.piece)
              for o in originals for s in SHIFTS]
    return base, originals, copies


def _copy_vs_other_distances(m, base, originals, copies):
    index = {id(it): k for k, it in enumerate(m.items)}
    ratios = []
    for o in originals:
        mine = [index[id(c)] for c in copies if c.piece == o.piece]
        d = m.distances(index[id(o)])
        others = [k for k, it in enumerate(m.items) if it.piece != o.piece]
        ratios.append(d[mine].max() / np.sort(d[others])[0])
    return np.array(ratios)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_transposed_copies_land_close_with_invariant_features(with_copies, method):
    base, originals, copies = with_copies
    m = build_style_map(base + copies, HandcraftedFeatures(), method)
    assert m.coords.shape == (len(base) + len(copies), 2)
    # every copy is closer to its original than the nearest other piece is
    assert np.all(_copy_vs_other_distances(m, base, originals, copies) < 1.0)


def test_absolute_pitch_features_pull_transposed_copies_apart(with_copies):
    base, originals, copies = with_copies
    inv = build_style_map(base + copies, HandcraftedFeatures(), "pca")
    absolute = build_style_map(base + copies, HandcraftedFeatures(invariant=False), "pca")
    r_inv = _copy_vs_other_distances(inv, base, originals, copies)
    r_abs = _copy_vs_other_distances(absolute, base, originals, copies)
    assert np.mean(r_abs) > 0.5 and np.mean(r_abs) > 10 * np.mean(r_inv) + 0.1


def test_styles_form_regions_and_new_songs_are_placed_among_their_kind(jsb_corpus,
                                                                     piano_corpus):
    chosen = items([jsb_corpus, piano_corpus], segment_bars=4, max_per_piece=3)
    for method in ("pca", "tsne"):
        m = build_style_map(chosen, method=method)
        labels = np.array(m.labels)
        centre = {c: m.coords[labels == c].mean(axis=0) for c in ("jsb", "piano")}
        spread = np.median(np.linalg.norm(m.coords - m.coords.mean(axis=0), axis=1))
        assert np.linalg.norm(centre["jsb"] - centre["piano"]) > 0.5 * spread, method
        # a chorale that is not on the map is placed nearer the chorales than the piano music
        from studio.data import load_dataset

        unseen = load_dataset("jsb").split("test")[3].song()
        (xy,) = m.place([unseen])
        assert np.linalg.norm(xy - centre["jsb"]) < np.linalg.norm(xy - centre["piano"])
        added = m.add([("new chorale", unseen), ("its transposition", transpose(unseen, 4))],
                      "generated")
        assert m.items[added[0]].label == "generated" and m.added == added
        assert np.linalg.norm(m.coords[added[0]] - m.coords[added[1]]) < 1e-6
        m.remove_added("generated")
        assert len(m.items) == len(chosen) and m.added == []


def test_map_methods_and_bad_input(jsb_corpus):
    has_umap = importlib.util.find_spec("umap") is not None
    assert available_methods()[:2] == ["pca", "tsne"]
    assert ("umap" in available_methods()) == has_umap
    few = items([jsb_corpus], segment_bars=None)[:2]
    with pytest.raises(AnalysisError, match="at least 3"):
        build_style_map(few)
    with pytest.raises(AnalysisError, match="unknown map method"):
        build_style_map(items([jsb_corpus], None)[:10], method="mds")
    if not has_umap:
        with pytest.raises(AnalysisError, match="not installed"):
            build_style_map(items([jsb_corpus], None)[:10], method="umap")
