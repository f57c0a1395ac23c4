"""Students: train a model on the data, measure it per slice, and steer the next round to its weak slices.

* :mod:`~synthkit.students.scoring`: Scoring a student: its answers to held-out records, checked by a synthkit verifier, per slice.
* :mod:`~synthkit.students.adapters`: A trained student used as a teacher, for recursive training.
* :mod:`~synthkit.students.lookup`: The ``lookup`` student: memorises answers, a baseline that needs no model.
* :mod:`~synthkit.students.loop`: The loop: generate, verify, mix, train, measure per slice, steer.
* :mod:`~synthkit.students.study`: The student study: verified against unverified data, steering, recursive training.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "ARMS",
    "Evaluation",
    "LookupStudent",
    "Loop",
    "LoopResult",
    "ON_COLLAPSE",
    "StudentTeacher",
    "comparisons",
    "evaluate",
    "split_requests",
    "steer_shares",
    "student_study",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "ARMS": "study",
        "Evaluation": "scoring",
        "LookupStudent": "lookup",
        "Loop": "loop",
        "LoopResult": "loop",
        "ON_COLLAPSE": "loop",
        "StudentTeacher": "adapters",
        "comparisons": "study",
        "evaluate": "scoring",
        "split_requests": "loop",
        "steer_shares": "loop",
        "student_study": "study",
    },
    globals(),
)
