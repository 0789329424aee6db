"""`studio models`: the model library, the shipped models and your own trained ones, with their
family, dataset, best validation NLL, size and what they can generate."""

from __future__ import annotations

import argparse

from studio.storage.names import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the shipped and your trained models",
                       description=__doc__)
    p.add_argument("--mode", help="only models that can: melody, continue, harmonize, infill, "
                   "interpolate")
    p.set_defaults(func=run)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def run(args: argparse.Namespace) -> int:
    from studio import paths
    from studio.ml.library import list_models

    entries = list_models(args.mode)
    if not entries:
        print(f"no models yet; train one with `studio train`. Your models are kept in "
              f"{paths.user_models_dir()}")
        return 0
    head = ["name", "model", "dataset", "valid nll", "epochs", "size", "where", "can", "created"]
    rows = []
    for e in entries:
        if e.problem:
            what = "weights missing" if "missing" in e.problem else "unreadable card"
            rows.append([e.name, e.model if e.card else "?", e.dataset if e.card else "?", "-",
                         "-", "-", "shipped" if e.shipped else "yours", what, ""])
            continue
        best = e.best_metrics
        rows.append([e.name, e.model, e.dataset,
                     f"{best['valid_nll']:.4f}" if "valid_nll" in best else "-",
                     str(len(e.card.get("metrics", []))), _size(e.size_bytes),
                     "shipped" if e.shipped else "yours", ",".join(e.modes) or "-",
                     e.created[:10]])
    widths = [max(len(printable(x)) for x in col) for col in zip(head, *rows)]
    for cells in [head, *rows]:
        print("  ".join(printable(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
    return 0
