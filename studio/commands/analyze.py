"""`studio analyze DATASET [DATASET ...]`: the style critic's table for two or more collections.

Each DATASET is a dataset name (`jsb`, or a user dataset), a folder of MIDI files, or one MIDI
file; each is one class. The pieces are cut into segments of a few bars, and several classifiers
(kernel SVMs and kNN on hand-crafted features, a small MLP and kNN on learned features) are
cross-validated on telling the classes apart; the table shows their accuracy side by side, then
precision and recall per class and the confusion matrices.

Learned features (--learned): by default the code the shipped melody VAE (vae-melody) gives each
segment's top line; or the hidden state of an LSTM (--learned lstm-melody), any melody VAE,
autoencoder or LSTM/GRU/RNN of your model library by name (`studio models` lists them), or
"autoencoder": a small autoencoder trained here on the pieces themselves (slower, and it
separated JSB from piano less well than the shipped VAE in our tests).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studio.ml.analysis.corpus import Corpus, items, load_corpus


def add_collection_arguments(p: argparse.ArgumentParser) -> None:
    """The options `analyze` and `map` share: what to load and how to cut it."""
    p.add_argument("datasets", nargs="+", metavar="DATASET",
                   help="a dataset name (e.g. jsb), a folder of MIDI files, or a MIDI file")
    p.add_argument("--bars", type=int, default=4,
                   help="segment length in bars (default 4); 0 = whole pieces")
    p.add_argument("--limit", type=int, default=400,
                   help="at most this many pieces per dataset, spread evenly (default 400; "
                        "0 = all)")
    p.add_argument("--max-per-piece", type=int, default=16,
                   help="at most this many segments per piece (default 16)")
    p.add_argument("--max-per-class", type=int, default=400,
                   help="at most this many items per dataset (default 400; 0 = all)")
    p.add_argument("--seed", type=int, default=0)


def add_learned_argument(p: argparse.ArgumentParser, flag: str = "--learned") -> None:
    from studio.ml.analysis.model_features import DEFAULT_LEARNED

    p.add_argument(flag, default=DEFAULT_LEARNED, metavar="{autoencoder,MODEL}",
                   help=f"learned features: a model of the library that reads melodies "
                        f"(default {DEFAULT_LEARNED}: the shipped melody VAE's code; "
                        "lstm-melody: the shipped LSTM's hidden state; or a VAE, autoencoder "
                        "or LSTM/GRU/RNN of yours), or 'autoencoder' to train a small one on "
                        "the pieces")


def load_collections(specs: Sequence[str], limit: int | None = None) -> list[Corpus]:
    """Load each spec as a corpus; skipped files are reported on stderr; labels made unique."""
    corpora: list[Corpus] = []
    seen: set[str] = set()
    for spec in specs:
        corpus = load_corpus(spec, limit=limit or None)
        for name, reason in corpus.skipped:
            print(f"{corpus.label}: skipped {name}: {reason}", file=sys.stderr)
        label, n = corpus.label, 2
        while label in seen:
            label, n = f"{corpus.label} ({n})", n + 1
        corpus.label = label
        seen.add(label)
        corpora.append(corpus)
    return corpora


def collection_items(args: argparse.Namespace, corpora: Sequence[Corpus]) -> list:
    out = items(corpora, segment_bars=args.bars or None, max_per_piece=args.max_per_piece,
                max_per_label=args.max_per_class or None)
    for c in corpora:
        count = sum(1 for i in out if i.label == c.label)
        what = f"segments of {args.bars} bars" if args.bars else "pieces"
        print(f"{c.label}: {len(c.pieces)} pieces, {count} {what}", file=sys.stderr)
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="how well can classifiers tell these datasets apart?",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_collection_arguments(p)
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    add_learned_argument(p)
    p.add_argument("--no-learned", action="store_true",
                   help="hand-crafted features only (no learned features)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.ml.analysis.corpus import check_labels
    from studio.ml.analysis.critic import (
        check_folds,
        compare_critics,
        default_plan,
        format_results,
        format_summary,
    )
    from studio.ml.analysis.errors import AnalysisError

    if len(args.datasets) < 2:
        raise AnalysisError("the critic tells datasets apart: give two or more datasets or "
                            "folders, each one a class")
    # A missing or broken model is told before any piece is read.
    learned = None if args.no_learned else learned_extractor(args.learned, None, args.seed)
    corpora = load_collections(args.datasets, args.limit)
    chosen = collection_items(args, corpora)
    check_labels(chosen)
    check_folds([i.label for i in chosen], [f"{i.label}\0{i.piece}" for i in chosen], args.folds)
    if learned is None and not args.no_learned:
        learned = learned_extractor(args.learned, chosen, args.seed)
    results = compare_critics(chosen, default_plan(learned), folds=args.folds, seed=args.seed)
    print(format_summary(results))
    print()
    print(format_results(results))
    return 0


def learned_extractor(choice: str, chosen: Sequence | None, seed: int):
    """The learned feature extractor `choice` names (see `add_learned_argument`). A library
    model is loaded (and checked) at once; the fitted autoencoder only once `chosen` items are
    given (None until then)."""
    from studio.ml.analysis.model_features import FITTED_AUTOENCODER, learned_features

    if choice != FITTED_AUTOENCODER:
        return learned_features(choice, [])
    if chosen is None:
        return None
    print("training the small autoencoder for learned features ...", file=sys.stderr)
    return learned_features(choice, [i.song for i in chosen], seed=seed)
