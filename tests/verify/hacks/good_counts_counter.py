"""A correct solution returning a collections.Counter (a dict subclass): read as the dict it holds.

technique: correct
task: counts
expect: pass
"""
from collections import Counter


def counts(words):
    return Counter(words)
