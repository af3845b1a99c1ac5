# plugins/plc-modbus: filled in by its owner
