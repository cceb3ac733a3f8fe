"""Leaks bytearrays from one line of a function (not its first), called
from a known line, while another function allocates and frees as much;
prints the bytes it keeps and leaves without finalising (os._exit: the
kept memory is never given back, and the code objects die with the
process before any report). Runs on CPython 3.8 and later.

Usage: leak_lines.py [COUNT [nochurn]]
(nochurn: for the tracers' modes that name who grew the heap or touched
its pages first, which for the churn's freed and reused memory is churn)"""
import os
import sys

KEEP = 64 * 1024
kept = []


def churn(n):
    tmp = bytearray(n)
    return len(tmp)


def leak(i):
    size = KEEP + i
    kept.append(bytearray(size))  # the allocating line: leak's 3rd
    return size


def main(count, churning):
    total = 0
    for i in range(count):
        if churning:
            churn(KEEP)
        total += leak(i)  # the calling line
    print("kept %d" % total, flush=True)
    os._exit(0)


main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, sys.argv[2:] != ["nochurn"])
