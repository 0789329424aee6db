"""`studio datasets`: list the datasets; `studio datasets show NAME`: its pieces, statistics and
the files that could not be imported; `studio datasets delete NAME`: remove an imported dataset
(your MIDI files are not touched)."""

from __future__ import annotations

import argparse

from studio.data import BUILTIN, load_dataset
from studio.data.piece_content import LENGTH_LABELS
from studio.data.statistics import dataset_statistics
from studio.data.store import DatasetStore
from studio.storage.names import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="list datasets, show one, or delete one",
                       description=__doc__)
    p.add_argument("action", nargs="?", choices=("list", "show", "delete"), default="list")
    p.add_argument("name", nargs="?", help="the dataset (for show and delete)")
    p.set_defaults(func=run)


def _hours(seconds: float) -> str:
    m = int(seconds // 60)
    return f"{m // 60}:{m % 60:02d} h"


def list_datasets() -> None:
    store = DatasetStore()
    rows = [("name", "pieces", "train/valid/test", "problems", "source")]
    for name in BUILTIN:
        ds = load_dataset(name)
        rows.append((name, str(len(ds)), "/".join(str(len(ds.split(s)))
                                                 for s in ("train", "valid", "test")),
                     "0", "built-in: " + ds.description))
    for name in store.names():
        m = store.read(name)
        ds = store.load(name)
        c = m.counts()
        state = "" if m.complete else "  (import interrupted: import again to continue)"
        rows.append((printable(name), str(len(ds)), "/".join(str(len(ds.split(s)))
                                                            for s in ("train", "valid", "test")),
                     str(c["bad"] + c["duplicate"] + c["filtered"]), printable(m.source) + state))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])


def show(name: str) -> None:
    ds = load_dataset(name)
    s = dataset_statistics(ds)
    print(f"{printable(name)}: {printable(ds.description)}")
    print(f"  pieces   {s.pieces} (train {s.splits['train']}, valid {s.splits['valid']}, "
          f"test {s.splits['test']}), {s.notes} notes, {_hours(s.seconds)}")
    rng = s.pitch_range()
    if rng:
        print(f"  pitches  {rng[0]}-{rng[1]}")
    total = max(1, int(s.length_hist.sum()))
    print("  lengths  " + ", ".join(f"{lab} {100 * n / total:.0f}%"
                                    for lab, n in zip(LENGTH_LABELS, s.length_hist)))
    print("  keys     " + ", ".join(f"{k} {n}" for k, n in s.keys.most_common(8)))
    print("  meters   " + ", ".join(f"{k} {n}" for k, n in s.meters.most_common(5)))
    if name in BUILTIN:
        return
    m = DatasetStore().read(name)
    if not m.complete:
        print("  the last import was interrupted: import the folder again to continue")
    problems = m.problems()
    print(f"  problems {len(problems)}")
    for rel, r in problems:
        reason = r.get("reason") or r.get("status")
        print(f"    {printable(r.get('status')):9s} {printable(rel)}: {printable(reason)}")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        list_datasets()
        return 0
    if not args.name:
        print(f"studio datasets {args.action} needs a dataset name")
        return 2
    if args.action == "show":
        show(args.name)
    else:
        DatasetStore().delete(args.name)
        print(f"deleted the dataset {printable(repr(args.name))} (the MIDI files in its folder "
              "are untouched)")
    return 0
