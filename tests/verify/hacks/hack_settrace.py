"""Installs a trace function to rewrite the caller's locals and results.

technique: settrace
task: square
expect: tampered
seen: set a trace or profile function
"""
import sys


def tracer(frame, event, arg):
    return tracer


sys.settrace(tracer)


def square(x):
    return 0
