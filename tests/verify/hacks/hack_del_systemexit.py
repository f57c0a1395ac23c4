"""Raises SystemExit from __del__ and returns a wrong answer (exceptions in __del__ are only printed).

technique: exit-in-del
task: square
expect: failed
seen: 2/2 tests failed
"""


class Bomb:
    def __del__(self):
        raise SystemExit(0)


def square(x):
    Bomb()
    return 0
