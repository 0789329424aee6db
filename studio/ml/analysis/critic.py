"""The style critic: classifiers that tell styles apart, cross-validated, side by side.

Each critic is a scikit-learn pipeline (standardise, then classify) on one feature extractor:
an SVM with a linear, polynomial or RBF kernel, k nearest neighbours, or a small MLP (meant for
learned features, but any extractor works). `cross_validate_critic` runs grouped, stratified
k-fold cross-validation (all segments of a piece stay in one fold, so a critic cannot score by
recognising the piece) and returns accuracy per fold, precision and recall per class and the
confusion matrix. `compare_critics` does this for every (extractor, classifier) pair of a plan,
so a musician sees which representation separates their styles.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from studio.ml.analysis.corpus import AnalysisItem, check_labels
from studio.ml.analysis.errors import AnalysisCancelled, AnalysisError
from studio.ml.analysis.features import FeatureExtractor, HandcraftedFeatures, featurize

StageProgress = Callable[[float, str], None]

CLASSIFIERS: dict[str, str] = {
    "svm-linear": "SVM, linear kernel",
    "svm-poly": "SVM, polynomial kernel",
    "svm-rbf": "SVM, RBF kernel",
    "knn": "k nearest neighbours",
    "mlp": "small MLP",
}
HANDCRAFTED_CLASSIFIERS = ("svm-linear", "svm-poly", "svm-rbf", "knn")
LEARNED_CLASSIFIERS = ("mlp", "knn")


def make_classifier(kind: str, seed: int = 0, neighbours: int = 5):
    """An unfitted pipeline: standard scaling, then the classifier named `kind`."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if kind == "svm-linear":
        clf = SVC(kernel="linear", C=1.0, class_weight="balanced",
                  random_state=seed)
    elif kind == "svm-poly":
        clf = SVC(kernel="poly", degree=3, coef0=1.0, C=1.0, gamma="scale",
                  class_weight="balanced", random_state=seed)
    elif kind == "svm-rbf":
        clf = SVC(kernel="rbf", C=1.0, gamma="scale", class_weight="balanced",
                  random_state=seed)
    elif kind == "knn":
        clf = KNeighborsClassifier(n_neighbors=neighbours, weights="distance")
    elif kind == "mlp":
        # L-BFGS converges faster and steadier than Adam on a few hundred samples; strong L2
        # (alpha=1) keeps 32 hidden units from memorising them.
        clf = MLPClassifier(hidden_layer_sizes=(32,), alpha=1.0, solver="lbfgs", max_iter=300,
                            random_state=seed)
    else:
        raise AnalysisError(f"unknown classifier {kind!r}; use one of {', '.join(CLASSIFIERS)}")
    return make_pipeline(StandardScaler(), clf)


@dataclass
class CriticResult:
    """Cross-validated results of one classifier on one representation."""

    representation: str
    classifier: str
    classes: list[str]
    fold_accuracy: np.ndarray
    confusion: np.ndarray  # rows: true class, columns: predicted class (counts)
    n_samples: int

    @property
    def accuracy(self) -> float:
        """Share of all samples classified right (pooled over the folds)."""
        return float(np.trace(self.confusion) / max(1, self.confusion.sum()))

    @property
    def accuracy_std(self) -> float:
        return float(np.std(self.fold_accuracy))

    @property
    def chance(self) -> float:
        """Accuracy of always guessing the biggest class."""
        return float(self.confusion.sum(axis=1).max() / max(1, self.confusion.sum()))

    @property
    def precision(self) -> np.ndarray:
        col = self.confusion.sum(axis=0)
        return np.divide(np.diag(self.confusion), col, out=np.zeros(len(col)), where=col > 0)

    @property
    def recall(self) -> np.ndarray:
        row = self.confusion.sum(axis=1)
        return np.divide(np.diag(self.confusion), row, out=np.zeros(len(row)), where=row > 0)

    @property
    def title(self) -> str:
        return f"{self.representation} / {CLASSIFIERS.get(self.classifier, self.classifier)}"


def check_folds(labels: Sequence[str], groups: Sequence[str], folds: int) -> None:
    """An `AnalysisError` unless every class has at least `folds` distinct pieces."""
    if folds < 2:
        raise AnalysisError("cross-validation needs at least 2 folds")
    classes = list(dict.fromkeys(labels))
    if len(classes) < 2:
        raise AnalysisError(
            f"the critic needs at least two classes to tell apart, got only {classes[0]!r}"
            if classes else "there is nothing to analyse")
    pieces: dict[str, set[str]] = {c: set() for c in classes}
    for label, group in zip(labels, groups):
        pieces[label].add(group)
    short = {c: len(p) for c, p in pieces.items() if len(p) < folds}
    if short:
        detail = ", ".join(f"{c!r} has {n}" for c, n in short.items())
        fewest = min(short.values())
        hint = f"use {fewest} folds or fewer, or " if fewest >= 2 else ""
        raise AnalysisError(
            f"{folds}-fold cross-validation needs at least {folds} pieces in every class, but "
            f"{detail} piece{'s' if fewest != 1 else ''}; {hint}add pieces")


def cross_validate_critic(features: np.ndarray, labels: Sequence[str], groups: Sequence[str],
                          kind: str, folds: int = 5, seed: int = 0, representation: str = "",
                          classes: Sequence[str] | None = None) -> CriticResult:
    """Grouped, stratified k-fold cross-validation of one classifier on one feature matrix."""
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    labels = np.asarray(labels)
    groups = np.asarray(groups)
    check_folds(labels, groups, folds)
    classes = list(classes) if classes is not None else list(dict.fromkeys(labels.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in labels])
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    fold_acc = []
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(features, y, groups):
        if len(np.unique(y[train])) < 2 or not len(test):
            continue
        neighbours = max(1, min(5, len(train) - 1))
        model = make_classifier(kind, seed, neighbours=neighbours)
        # One BLAS thread: these matrices are small, and several threads spin-waiting for each
        # other on a busy CPU made the MLP on 512 learned features 30x slower (20 s vs 0.6 s).
        with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
            warnings.simplefilter("ignore")  # MLP convergence notes on tiny data
            model.fit(features[train], y[train])
            pred = model.predict(features[test])
        np.add.at(confusion, (y[test], pred), 1)
        fold_acc.append(float((pred == y[test]).mean()))
    return CriticResult(representation, kind, classes, np.array(fold_acc), confusion, len(y))


def default_plan(learned: FeatureExtractor | None = None
                 ) -> list[tuple[FeatureExtractor, tuple[str, ...]]]:
    """Kernel SVMs and kNN on the hand-crafted features; the MLP and kNN on learned ones."""
    plan: list[tuple[FeatureExtractor, tuple[str, ...]]] = [
        (HandcraftedFeatures(), HANDCRAFTED_CLASSIFIERS)]
    if learned is not None:
        plan.append((learned, LEARNED_CLASSIFIERS))
    return plan


def compare_critics(items: Sequence[AnalysisItem],
                    plan: Sequence[tuple[FeatureExtractor, Sequence[str]]] | None = None,
                    folds: int = 5, seed: int = 0, progress: StageProgress | None = None,
                    cancel: Callable[[], bool] | None = None) -> list[CriticResult]:
    """Cross-validate every classifier of the plan on its extractor's features of `items`."""
    classes = check_labels(items)
    labels = [i.label for i in items]
    groups = [f"{i.label}\0{i.piece}" for i in items]
    check_folds(labels, groups, folds)
    plan = list(plan) if plan is not None else default_plan()
    total = sum(1 + len(kinds) for _, kinds in plan)
    done = 0
    results = []
    songs = [i.song for i in items]
    for extractor, kinds in plan:
        if progress:
            progress(done / total, f"{extractor.name}: features of {len(songs)} items")
        x = featurize(extractor, songs, cancel=cancel)
        done += 1
        for kind in kinds:
            if cancel is not None and cancel():
                raise AnalysisCancelled()
            if progress:
                progress(done / total, f"{extractor.name}: {CLASSIFIERS.get(kind, kind)}")
            results.append(cross_validate_critic(x, labels, groups, kind, folds, seed,
                                                 extractor.name, classes))
            done += 1
    if progress:
        progress(1.0, "done")
    return results


def format_results(results: Sequence[CriticResult]) -> str:
    """The critic's table as text: accuracy, then precision / recall per class, then the
    confusion matrices, one block per representation."""
    if not results:
        return "(no results)"
    classes = results[0].classes
    width = max(12, *(len(c) for c in classes))
    lines = []
    head = f"{'representation':32s} {'classifier':24s} {'accuracy':>15s}"
    head += "".join(f"  {c[:width]:>{width}s} P/R" for c in classes)
    lines += [head, "-" * len(head)]
    for r in results:
        row = (f"{r.representation[:32]:32s} {CLASSIFIERS.get(r.classifier, r.classifier):24s} "
               f"{r.accuracy:7.1%} ± {r.accuracy_std:4.0%}")
        row += "".join(f"  {f'{p:.2f}/{q:.2f}':>{width + 4}s}" for p, q in zip(r.precision,
                                                                                 r.recall))
        lines.append(row)
    r0 = results[0]
    lines.append(f"\n{r0.n_samples} samples, {len(r0.fold_accuracy)} folds; chance (always the "
                 f"biggest class) {r0.chance:.1%}.  P/R = precision / recall per class.")
    lines.append("\nConfusion matrices (rows: true class, columns: predicted):")
    for r in results:
        lines.append(f"\n  {r.title}")
        lines.append("  " + " " * width + "".join(f" {c[:width]:>{width}s}" for c in classes))
        for c, row in zip(classes, r.confusion):
            lines.append(f"  {c[:width]:>{width}s}" + "".join(f" {v:>{width}d}" for v in row))
    return "\n".join(lines)


def format_summary(results: Sequence[CriticResult]) -> str:
    """Accuracy as a grid: one row per classifier, one column per representation."""
    if not results:
        return "(no results)"
    reps = list(dict.fromkeys(r.representation for r in results))
    kinds = list(dict.fromkeys(r.classifier for r in results))
    cell = {(r.representation, r.classifier): r for r in results}
    width = max(18, *(len(x) for x in reps))
    lines = [f"{'cross-validated accuracy':24s}" + "".join(f"  {x:>{width}s}" for x in reps)]
    for k in kinds:
        row = f"{CLASSIFIERS.get(k, k):24s}"
        for rep in reps:
            r = cell.get((rep, k))
            row += f"  {(f'{r.accuracy:.1%} ± {r.accuracy_std:.0%}' if r else '-'):>{width}s}"
        lines.append(row)
    best = max(results, key=lambda r: r.accuracy)
    lines.append(f"(chance: {results[0].chance:.1%}; best: {best.title}, {best.accuracy:.1%})")
    return "\n".join(lines)
