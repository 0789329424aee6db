"""The style map and style critic: songs placed by style, classifiers that tell corpora apart,
a PNG renderer for the CLI. Installed by `style_map_feature`."""
