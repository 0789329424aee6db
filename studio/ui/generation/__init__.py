"""Generation: the Generation panel (modes, models, sampling, variations to audition and
accept) and the first-launch demo. Installed by `generation_feature`."""
