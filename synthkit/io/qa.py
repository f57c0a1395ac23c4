"""The ``doc-qa`` export: document-QA records as question -> answer training conversations.

A ``doc-qa`` record (made with the ``doc-qa`` template, checked by the ``quote`` verifier)
holds a JSON object ``{"question", "answer", "quote"}`` in its response (or those fields in
its data, or its ``parsed`` field). Its row is an OpenAI chat row: the question as the user
turn and the answer as the assistant turn, so ``--format doc-qa`` gives SFT data, not the
JSON the teacher was asked for.
"""

from __future__ import annotations

from typing import Any

from synthkit.errors import RecordError
from synthkit.interfaces import Exporter
from synthkit.records import Record
from synthkit.verify.quote import doc_qa_fields

__all__ = ["DocQAExporter"]


class DocQAExporter(Exporter):
    """Question -> answer chat rows from document-QA records: ``{"messages": [user question, assistant answer]}``.

    Args:
        system: a system message to put first.
        context: put the document chunk before the question in the user turn (open-book QA);
            by default the question stands alone (closed-book, the model learns the facts).
    """

    name = "doc-qa"

    def __init__(self, system: str | None = None, context: bool = False) -> None:
        self.system = system
        self.context = context

    def convert(self, record: Record) -> dict[str, Any]:
        fields = doc_qa_fields(record, ("question", "answer"))
        if fields is None:
            msg = f"record {record.id} holds no question and answer (a doc-qa response is a JSON object with question, answer, quote)"
            raise RecordError(msg, kind="not_doc_qa")
        question, answer = str(fields.get("question") or "").strip(), str(fields.get("answer") or "").strip()
        if not question or not answer:
            raise RecordError(f"record {record.id} has an empty question or answer", kind="empty_qa")
        user = question
        if self.context:
            chunk = record.data.get("chunk")
            if not isinstance(chunk, str):
                raise RecordError(f"record {record.id} has no 'chunk' text to give as context", kind="no_chunk")
            user = f"{chunk}\n\n{question}"
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        return {"messages": msgs}
