"""Analysis of music collections (Qt-free): features, the style critic, the style map, ranking.

- `features`: the `FeatureExtractor` protocol and the hand-crafted features;
  `learned`: `LearnedFeatures` over any model that encodes songs, and a small autoencoder;
  `model_features`: the library's melody VAEs, autoencoders and RNNs as feature extractors.
- `corpus`: labelled collections (datasets, MIDI folders, songs) and their pieces or segments.
- `critic`: cross-validated kernel SVMs, kNN and a small MLP, side by side.
- `style_map`: PCA / t-SNE / UMAP maps on which new songs can be placed.
- `ranking`: style score and nearest-neighbour distance of generated candidates.
"""

from studio.ml.analysis.corpus import (
    AnalysisItem,
    Corpus,
    corpus_from_dataset,
    corpus_from_folder,
    corpus_from_songs,
    items,
    load_corpus,
    segment_song,
)
from studio.ml.analysis.critic import (
    CLASSIFIERS,
    CriticResult,
    compare_critics,
    cross_validate_critic,
    default_plan,
    format_results,
)
from studio.ml.analysis.errors import AnalysisCancelled, AnalysisError
from studio.ml.analysis.features import FeatureExtractor, HandcraftedFeatures, featurize
from studio.ml.analysis.learned import LearnedFeatures, RollAutoencoder, fitted_roll_autoencoder
from studio.ml.analysis.model_features import encoder_models, learned_features, model_features
from studio.ml.analysis.ranking import (
    CandidateScore,
    StyleReference,
    rank_candidates,
    reference_for_dataset,
)
from studio.ml.analysis.style_map import StyleMap, available_methods, build_style_map

__all__ = [
    "AnalysisCancelled", "AnalysisError", "AnalysisItem", "CLASSIFIERS", "CandidateScore",
    "Corpus", "CriticResult", "FeatureExtractor", "HandcraftedFeatures", "LearnedFeatures",
    "RollAutoencoder", "StyleMap", "StyleReference", "available_methods", "build_style_map",
    "compare_critics", "corpus_from_dataset", "corpus_from_folder", "corpus_from_songs",
    "cross_validate_critic", "default_plan", "encoder_models", "featurize", "format_results",
    "fitted_roll_autoencoder", "items", "learned_features", "load_corpus", "model_features",
    "rank_candidates", "reference_for_dataset", "segment_song",
]
