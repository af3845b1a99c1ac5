# tests/config.mk: filled in by its owner
