"""Closes every descriptor it holds except stdio, so no answer can be asked of it, and keeps running.

technique: close-channel
task: square
expect: tampered
seen: closed its end of the grader's channel
"""
import os
import time

os.closerange(3, 256)
time.sleep(3)


def square(x):
    return 0
