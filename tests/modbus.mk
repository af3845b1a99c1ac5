# tests/modbus.mk: filled in by its owner
