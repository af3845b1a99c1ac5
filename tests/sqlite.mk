# tests/sqlite.mk: filled in by its owner
