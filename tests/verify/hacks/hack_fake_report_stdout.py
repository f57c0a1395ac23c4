"""Prints what a passing run prints, on stdout and stderr (output is never read as a result).

technique: fake-output
task: square
expect: failed
seen: 2/2 tests failed
"""
import sys

print("2/2 tests passed\n{'stage': 'tests', 'total': 2, 'failed': []}")
print("{'exit': 0}", file=sys.stderr)


def square(x):
    return 0
