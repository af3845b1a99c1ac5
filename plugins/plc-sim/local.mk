# plugins/plc-sim: filled in by its owner
