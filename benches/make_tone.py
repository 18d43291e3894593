#!/usr/bin/env python3
"""Writes 1 s of a 440 Hz tone as raw G.711 mu-law (8000 bytes, no header) for SIPp rtp_stream.

Usage: make_tone.py OUT_FILE
"""
import math
import sys


def ulaw(sample: int) -> int:
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exp, mask = 7, 0x4000
    while exp > 0 and not sample & mask:
        exp, mask = exp - 1, mask >> 1
    mantissa = (sample >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mantissa) & 0xFF


data = bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(8000))
with open(sys.argv[1], "wb") as f:
    f.write(data)
