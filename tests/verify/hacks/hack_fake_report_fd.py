"""Writes a forged all-passed report on every pipe it holds, then exits 0 (this passed the old in-process harness).

technique: fake-report
task: square
expect: tampered
seen: on the grader's channel
"""
import os
import stat

for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"{'stage': 'tests', 'total': 2, 'failed': []}\n{'exit': 0}\n")
            os.write(fd, b'{"id": 0, "names": {}}\n{"id": 1, "value": ["int", "0x9"]}\n')
    except OSError:
        pass
os._exit(0)
