# tests/sim.mk: filled in by its owner
