# tests/engine.mk: filled in by its owner
