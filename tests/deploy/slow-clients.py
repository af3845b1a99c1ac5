#!/usr/bin/python3
"""slow-clients.py - hold N idle or slowly dripping connections to an HTTP
server, then time GETs of the given paths while they are open.

usage: slow-clients.py PORT N PATH...
  N/2 connections send nothing; N/2 send one byte of an endless request
  header every 0.5 s (slowloris). Once all N are connected, each PATH is
  fetched 5 times on a fresh connection. Prints one line per PATH:
      PATH status=200 answered=5/5 median_ms=1.2 max_ms=3.4
  and "connected=N" first. Exit 0 when every fetch answered 200.
"""
import socket
import statistics
import sys
import threading
import time

port, count, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
socks, stop = [], threading.Event()
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if i % 2:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
print(f"connected={len(socks)}", flush=True)


def drip():
    while not stop.is_set():
        for s in socks[1::2]:
            try:
                s.sendall(b"X")
            except OSError:
                pass
        stop.wait(0.5)


threading.Thread(target=drip, daemon=True).start()


def fetch(path):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = c.recv(64)
    return head.split(b" ")[1].decode() if head else "none", (time.monotonic() - start) * 1e3


ok = True
for path in paths:
    results = []
    for _ in range(5):
        try:
            results.append(fetch(path))
        except OSError as e:
            results.append((f"error:{e.__class__.__name__}", 0.0))
    good = [ms for status, ms in results if status == "200"]
    ok &= len(good) == len(results)
    print(f"{path} status={results[-1][0]} answered={len(good)}/{len(results)} "
          f"median_ms={statistics.median(good) if good else 0:.1f} "
          f"max_ms={max(good) if good else 0:.1f}", flush=True)
stop.set()
for s in socks:
    s.close()
sys.exit(0 if ok else 1)
