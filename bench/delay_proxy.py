#!/usr/bin/env python3
"""delay_proxy.py - a TCP proxy that adds a round-trip delay (and optionally
loss) between a client and a server on loopback: the WAN in bench/wan_bench.sh
where `tc qdisc ... netem` is not available (this machine's kernel has no
sch_netem; bench/wan_bench.sh says which one it used).

Every chunk read from one side is written to the other side RTT/2 later, in
order (a per-direction queue), so a request/response pair costs one RTT as
on a real link, and many requests in flight overlap as they would. Loss is
modelled as TCP sees it: a chunk "lost" with probability LOSS arrives one
retransmission timeout (200 ms) late, and everything behind it waits.

Usage: delay_proxy.py --listen PORT --upstream HOST:PORT --rtt-ms MS [--loss P]
       [--control PORT]   GET http://127.0.0.1:PORT/rtt?ms=N changes the delay
Prints "ready" on stdout once listening.
"""
import argparse
import asyncio
import random
import sys
import time

RTO_S = 0.2


class Link:
    def __init__(self, rtt_ms, loss):
        self.one_way = rtt_ms / 2000.0
        self.loss = loss


async def pump(reader, writer, link):
    """Copy reader -> writer, each chunk delivered one_way seconds after it came."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.ensure_future(deliver())
    last_due = 0.0
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            due = time.monotonic() + link.one_way
            if link.loss and random.random() < link.loss:
                due += RTO_S
            last_due = max(last_due, due)  # in order, never overtaking
            await queue.put((last_due, data))
    except (ConnectionError, OSError):
        pass
    await queue.put((0, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def handle(client_r, client_w, host, port, link):
    try:
        up_r, up_w = await asyncio.open_connection(host, port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pump(client_r, up_w, link), pump(up_r, client_w, link))


async def control(reader, writer, link):
    line = (await reader.readline()).decode("latin-1")
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    if "/rtt?ms=" in line:
        link.one_way = float(line.split("/rtt?ms=")[1].split()[0]) / 2000.0
    writer.write(b"HTTP/1.0 204 No Content\r\n\r\n")
    await writer.drain()
    writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rtt-ms", type=float, default=0)
    ap.add_argument("--loss", type=float, default=0)
    ap.add_argument("--control", type=int, default=0)
    opts = ap.parse_args()
    host, port = opts.upstream.rsplit(":", 1)
    link = Link(opts.rtt_ms, opts.loss)
    await asyncio.start_server(lambda r, w: handle(r, w, host, int(port), link),
                               "127.0.0.1", opts.listen)
    if opts.control:
        await asyncio.start_server(lambda r, w: control(r, w, link), "127.0.0.1",
                                   opts.control)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
