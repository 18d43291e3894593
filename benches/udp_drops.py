#!/usr/bin/env python3
"""Samples /proc/net/udp every 100 ms and prints, when stopped (SIGTERM/SIGINT), the packets the
kernel dropped on UDP sockets bound to local ports LO..HI (hotline's RTP range): the receive
buffer overflowed because the owner did not read in time. Sockets are closed at call end, so the
last count of each socket is kept.

Usage: udp_drops.py LO HI
"""
import signal
import sys
import time

lo, hi = int(sys.argv[1]), int(sys.argv[2])
seen = {}  # inode -> drops
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)


def sample():
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            cols = line.split()
            port = int(cols[1].split(":")[1], 16)
            if lo <= port <= hi:
                seen[cols[9]] = max(seen.get(cols[9], 0), int(cols[-1]))


while running:
    sample()
    time.sleep(0.1)
sample()
print(sum(seen.values()), len(seen))
