# conf.d: filled in by its owner
