"""Model families, one module each; `studio.ml.registry` discovers them (see `studio.ml.family`)."""
