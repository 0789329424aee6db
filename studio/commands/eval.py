"""`studio eval MODEL --dataset NAME --split test`: a model's NLL, accuracy and onset
precision / recall / F1 on a split, beside an n-gram baseline fitted on the same dataset's train
split and scored on the same split. MODEL is a model file or a name from `studio models`.
"""

from __future__ import annotations

import argparse

from studio.commands.train import open_dataset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score a model on a dataset split beside an n-gram baseline",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file or library name")
    p.add_argument("--dataset", "-d", default="jsb", metavar="NAME")
    p.add_argument("--split", default="test", choices=("train", "valid", "test"))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ngram-order", type=int, default=6, help="order of the n-gram baseline "
                   "(0: none; default 6)")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation masks")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (default cpu)")
    p.set_defaults(func=run)


def format_evaluation(name: str, loaded, evaluation) -> str:
    card, m, b = loaded.card, evaluation.metrics, evaluation.baseline
    trained = card.get("dataset", {}).get("name", "?")
    lines = [f"{name}: {card.get('model', card['family'])} model ({card['family']} family), "
             f"trained on {trained}",
             f"{evaluation.split} split of {evaluation.dataset}: {evaluation.examples} excerpts, "
             f"{int(m['count']):,} predictions", ""]
    head = f"{'':18}{'NLL':>8}{'accuracy':>10}{'onset P':>9}{'onset R':>9}{'onset F1':>10}"
    lines.append(head)
    lines.append(f"{'model':18}{m['nll']:8.4f}{m['accuracy']:10.3f}{m['precision']:9.3f}"
                 f"{m['recall']:9.3f}{m['f1']:10.3f}")
    if b:
        label = f"{int(b['order'])}-gram baseline"
        lines.append(f"{label:18}{b['nll']:8.4f}{b['accuracy']:10.3f}{'-':>9}{'-':>9}{'-':>10}")
    lines.append("")
    lines.append("NLL in nats per prediction (lower is better).")
    if loaded.family.evaluation_note:
        lines.append(loaded.family.evaluation_note)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import torch

    from studio.ml.evaluate import evaluate
    from studio.ml.library import open_model

    loaded = open_model(args.model, device=args.device)
    dataset = open_dataset(args.dataset)
    torch.manual_seed(args.seed)
    result = evaluate(loaded.family, loaded.model, dataset, args.split,
                      batch_size=args.batch_size, seed=args.seed, ngram_order=args.ngram_order)
    print(format_evaluation(loaded.name, loaded, result))
    return 0
