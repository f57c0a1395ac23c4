"""A plain correct solution.

technique: correct
task: square
expect: pass
"""


def square(x):
    return x * x
