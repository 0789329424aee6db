"""`studio map DATASET [DATASET ...] -o map.png`: draw the style map of one or more collections.

Every segment (or piece, with --bars 0) becomes a point; points that sound alike lie close
together. Features: transposition-invariant hand-crafted ones (default), the same with absolute
pitch, or learned ones: the code of the shipped melody VAE (vae-melody), the hidden state of the
shipped LSTM (lstm-melody), any melody model of your library by name, or a small autoencoder
fitted on the pieces (autoencoder). Projection: PCA, t-SNE, or UMAP
when the `umap` package is installed. Works without a display.
"""

from __future__ import annotations

import argparse
import os

from studio.commands.analyze import (
    add_collection_arguments,
    collection_items,
    learned_extractor,
    load_collections,
)

HANDCRAFTED = ("invariant", "absolute")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="draw a 2-D style map of datasets as a PNG",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_collection_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="MAP.png", help="the PNG to write")
    p.add_argument("--method", default="pca", choices=("pca", "tsne", "umap"),
                   help="projection (default pca; umap needs the umap package)")
    p.add_argument("--features", default="invariant",
                   metavar="{invariant,absolute,autoencoder,MODEL}",
                   help="invariant (default): hand-crafted, transposition-invariant; absolute: "
                        "with absolute pitch; vae-melody: the shipped melody VAE's code; "
                        "lstm-melody: the shipped LSTM's hidden state (or any melody VAE, "
                        "autoencoder or RNN of your library by name); autoencoder: a small "
                        "autoencoder trained on the pieces ('learned' means the same)")
    p.add_argument("--colour", "--color", dest="colour", default="dataset",
                   choices=("dataset", "key"), help="colour points by dataset or by key")
    p.add_argument("--size", default="1200x850", help="image size WIDTHxHEIGHT (default 1200x850)")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    from studio.ml.analysis.errors import AnalysisError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise AnalysisError(f"--size must look like 1200x850, not {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise AnalysisError("--size: width and height must be between 200 and 8000 pixels")
    return w, h


def run(args: argparse.Namespace) -> int:

    from studio.ml.analysis.features import HandcraftedFeatures
    from studio.ml.analysis.style_map import build_style_map
    from studio.storage import check_writable

    width, height = _size(args.size)
    check_writable(args.output)  # before any work, not after it (no folder, a read-only disk)
    choice = "autoencoder" if args.features == "learned" else args.features
    if choice in HANDCRAFTED:
        extractor = HandcraftedFeatures(invariant=choice == "invariant")
    else:  # a missing or broken model is told before any piece is read
        extractor = learned_extractor(choice, None, args.seed)
    corpora = load_collections(args.datasets, args.limit)
    chosen = collection_items(args, corpora)
    if extractor is None:
        extractor = learned_extractor(choice, chosen, args.seed)
    style_map = build_style_map(chosen, extractor, args.method, seed=args.seed)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication  # a QApplication, so the window could follow

    app = QApplication.instance() or QApplication(["studio-map"])  # noqa: F841 (fonts)
    from studio.ui.style_map.style_map_render import save_style_map_png

    path = save_style_map_png(style_map, args.output, args.colour, width, height)
    print(f"wrote {path} ({len(chosen)} points, {style_map.title})")
    return 0
