"""Returns an int subclass with __ne__ always False and a __hash__ that collides with everything.

technique: hash-ne-override
task: square
expect: tampered
seen: claims to equal any object
"""


class Sly(int):
    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0


def square(x):
    return Sly(0)
