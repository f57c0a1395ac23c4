"""A correct solution that logs (logging registers an atexit handler of its own, which is fine).

technique: correct
task: first_word
expect: pass
"""
import logging

log = logging.getLogger(__name__)


def first_word(s):
    log.debug("splitting %r", s)
    return s.split()[0]
