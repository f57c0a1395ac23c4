"""Ends the process with status 0 before any test runs (a harness that trusts the exit status passes it).

technique: exit-0-before-tests
task: square
expect: crashed
seen: the program exited with code 0 before the tests finished
"""
import os

os._exit(0)
