# deploy: filled in by its owner
