"""Forks: the parent exits 0 at once while a child lingers, holding the pipes open.

technique: exit-0-before-tests
task: square
expect: crashed
seen: the program exited with code 0 before the tests finished
"""
import os
import time

if os.fork() == 0:
    time.sleep(30)
os._exit(0)
