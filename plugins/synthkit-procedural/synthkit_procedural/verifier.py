"""The ``final-answer`` verifier: does the response end with the record's answer?"""

from __future__ import annotations

from synthkit import Record, Verdict, Verifier
from synthkit.errors import RecordError

from .answers import extract_final_answer, same_answer

__all__ = ["FinalAnswerVerifier"]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FinalAnswerVerifier(Verifier):
    """Compare a response's final answer with the answer the record carries.

    The response's answer is its last ``Final answer: X`` line, else its last
    ``\\boxed{X}``; see :func:`~synthkit_procedural.answers.same_answer` for what counts
    as equal.

    Args:
        answer_field: the ``data`` key holding the expected answer.
    """

    name = "final-answer"

    def __init__(self, answer_field: str = "answer") -> None:
        self.answer_field = answer_field

    async def verify(self, record: Record) -> Verdict:
        """Return a passing verdict when the final answer matches, with the reason either way.

        Raises:
            RecordError: the record has no expected answer (``kind="missing_answer"``).
        """
        expected = record.data.get(self.answer_field)
        if expected is None:
            msg = (
                f"record {record.id} has no {self.answer_field!r} field to check the final answer against; "
                f"it has {sorted(record.data) or 'no data fields'}. Pass answer_field=... to name it."
            )
            raise RecordError(msg, kind="missing_answer")
        got = extract_final_answer(record.response or "")
        if got is None:
            return Verdict(self.name, False, "no final answer found", 0.0)
        # Answers are quoted so a run's summary counts every mismatch under one reason.
        if same_answer(got, str(expected)):
            return Verdict(self.name, True, f"final answer {_short(got)!r} matches", 1.0)
        return Verdict(self.name, False, f"final answer {_short(got)!r} != expected {_short(str(expected))!r}", 0.0)
