# monitoring: filled in by its owner
