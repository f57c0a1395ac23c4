"""What runs inside the sandbox to grade a solution: two processes that exchange plain data.

``_sandbox_child.py`` loads this package from its folder (it runs with ``-I``; standard
library only) and calls :func:`grading.run` in the sandbox's first process: the grader.
Before it reads anything about the tests it forks the solution's process
(:mod:`.solution`), pid 1 of a new pid namespace, which closes every descriptor but its
two pipes, takes a process group and a Landlock domain of its own, and runs the solution:
it has no pid for the grader, let alone a way to signal or trace it. Only then does the
grader read the tests, the hidden tests and the reference from the host's pipe, which
the solution's process never held, and run them in its own interpreter (:mod:`.grading`).

Every name the solution defines is a :class:`~.data.Remote` in the tests' namespace:
calling it, or anything else done to it, is a request on the pipe, and the answer comes
back as plain data (:mod:`.data`: JSON lists with a type tag, ``["int", "0x9"]``). So what
a test compares is a value the grader decoded itself, never an object of the solution's,
and ``==`` in a test is type-strict.

Anything on the pipe that is not a well-formed answer to the request in flight is
tampering, seen by the grader. The solution's process also reports what it notices about
itself (a replaced builtin, an object whose ``__eq__`` claims to equal anything, a signal
handler, a patched harness...): those notes are evidence, not guarantees, since the
solution controls its own process; the guarantees come from the process boundary.
"""
