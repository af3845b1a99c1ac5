#!/usr/bin/python3
"""A Modbus RTU server (pymodbus 3.0) on a serial device, for tests/modbus-rtu.bats.

It serves unit 1 with fixed values at the demo tool's addresses
(docs/demo-tool.md), chosen so that each is exact in float32 and differs from
the simulator's, so a reader that gets them right really read this server:

  input registers (f32, high word first): 0 MFC 1 = 123.25, 2 MFC 2 = 42.5,
      4 gauge 1 = 0.75, 6 gauge 2 = 0.875, 8 chamber = 151.75, 10 line = 81.5
  holding registers (f32): 0 = 123.25, 2 = 42.5, 4 = 151.75, 6 = 81.5
  coils: 2 (valve 3) and 10 (pump power) on, the rest off
  discrete inputs: 0 (pump running) on, 1 (N2 ready) off

Usage: modbus-rtu-server.py DEVICE [BAUD]. Prints "serving on DEVICE" on
stderr once the port is open; runs until SIGTERM.

Needs Debian's python3-pymodbus, python3-serial and python3-serial-asyncio
(run with /usr/bin/python3, not another python3 on PATH).
"""
import asyncio
import logging
import signal
import struct
import sys

from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.server import StartAsyncSerialServer
from pymodbus.transaction import ModbusRtuFramer

INPUT_FLOATS = [123.25, 42.5, 0.75, 0.875, 151.75, 81.5]
HOLDING_FLOATS = [123.25, 42.5, 151.75, 81.5]
COILS_ON = {2, 10}
COIL_COUNT = 12
DISCRETE_INPUTS = [1, 0]


def registers(floats):
    """Big-endian float32 values as 16-bit registers, high word first (ABCD)."""
    words = []
    for value in floats:
        high, low = struct.unpack(">HH", struct.pack(">f", value))
        words += [high, low]
    return words


def context():
    # zero_mode: request address N is list index N (no 1-based shift).
    slave = ModbusSlaveContext(
        co=ModbusSequentialDataBlock(0, [int(i in COILS_ON) for i in range(COIL_COUNT)]),
        di=ModbusSequentialDataBlock(0, DISCRETE_INPUTS),
        hr=ModbusSequentialDataBlock(0, registers(HOLDING_FLOATS)),
        ir=ModbusSequentialDataBlock(0, registers(INPUT_FLOATS)),
        zero_mode=True,
    )
    return ModbusServerContext(slaves={1: slave}, single=False)


async def main(device, baud):
    server = await StartAsyncSerialServer(
        context=context(),
        framer=ModbusRtuFramer,  # the library's default here is ASCII
        port=device,
        baudrate=baud,
        bytesize=8,
        parity="N",
        stopbits=1,
        defer_start=True,
    )
    await server.start()
    if server.transport is None:
        sys.exit(f"modbus-rtu-server: cannot open {device}")
    print(f"serving on {device}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.shutdown()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: modbus-rtu-server.py DEVICE [BAUD]")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 19200))
