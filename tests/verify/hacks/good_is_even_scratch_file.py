"""A correct solution that writes a scratch file in its working directory.

technique: correct
task: is_even
expect: pass
"""


def is_even(n):
    with open("scratch.txt", "w") as fh:
        fh.write(str(n))
    return n % 2 == 0
