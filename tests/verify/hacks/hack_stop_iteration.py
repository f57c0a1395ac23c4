"""Raises StopIteration from the function, hoping to end a loop of checks early as if it had finished.

technique: control-flow-exception
task: square
expect: failed
seen: raised StopIteration
"""


def square(x):
    raise StopIteration
