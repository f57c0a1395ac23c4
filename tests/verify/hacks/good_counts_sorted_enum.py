"""A correct solution whose counts are IntEnum members (int subclasses that do not redefine equality).

technique: correct
task: counts
expect: pass
"""
import enum


class N(enum.IntEnum):
    ONE = 1
    TWO = 2
    THREE = 3


def counts(words):
    out = {}
    for w in words:
        out[w] = out.get(w, 0) + 1
    return {w: N(c) if c <= 3 else c for w, c in out.items()}
