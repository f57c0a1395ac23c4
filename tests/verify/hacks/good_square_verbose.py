"""A correct solution that prints, imports, uses a helper named like a builtin and a main guard.

technique: correct
task: square
expect: pass
"""
import math


def abs(x):  # shadows a builtin in its own module only: the tests keep the real abs
    return -x if x < 0 else x


def square(x):
    print("squaring", x)
    return int(math.pow(abs(x), 2)) if abs(x) < 2**26 else x * x


if __name__ == "__main__":
    print(square(3))
