"""Records in and out: JSONL, Arrow and Parquet tables, Hugging Face datasets and frames, trainer formats, dataset cards.

* :mod:`~synthkit.io.card`: Dataset cards: a Hugging Face ``README.md`` that summarises a set's lineage.
* :mod:`~synthkit.io.chat`: Conversations with tool calls in trainer formats: OpenAI fine-tuning, ShareGPT as LLaMA-Factory reads it, TRL.
* :mod:`~synthkit.io.exporters`: Trainer formats: OpenAI chat ``messages``, ShareGPT ``conversations``, Alpaca; and the export run.
* :mod:`~synthkit.io.interchange`: Records in and out of JSONL, Parquet, Hugging Face ``datasets``, pandas and polars.
* :mod:`~synthkit.io.jsonl`: JSONL sources and sinks. Errors name the file and the line.
* :mod:`~synthkit.io.preference`: Preference data for TRL: DPO's paired rows and KTO's unpaired rows, conversational.
* :mod:`~synthkit.io.qa`: The ``doc-qa`` export: document-QA records as question -> answer training conversations.
* :mod:`~synthkit.io.tables`: Records as Arrow tables: the column rule, a streaming Parquet (or Arrow) writer, a row reader.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "AlpacaExporter",
    "BadLine",
    "CardInfo",
    "check_source",
    "collect",
    "Conversation",
    "conversation",
    "dataset_card",
    "DocQAExporter",
    "DPOExporter",
    "export",
    "ExportSummary",
    "from_dataset",
    "from_hub",
    "is_table_source",
    "iter_records",
    "iter_rows",
    "JsonlWriter",
    "KTOExporter",
    "LineageStats",
    "OnBadLine",
    "open_writer",
    "OpenAIExporter",
    "PARQUET_SUFFIXES",
    "push_to_hub",
    "read_records",
    "render_card",
    "ROW_GROUP_SIZE",
    "rows_of",
    "ShareGPTExporter",
    "size_category",
    "TableWriter",
    "to_arrow",
    "to_dataset",
    "to_pandas",
    "to_polars",
    "tool_chat",
    "ToolChat",
    "TRLExporter",
    "uses_tools",
    "write_card",
    "write_records",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "AlpacaExporter": "exporters",
        "BadLine": "jsonl",
        "CardInfo": "card",
        "check_source": "interchange",
        "collect": "card",
        "Conversation": "exporters",
        "conversation": "exporters",
        "dataset_card": "card",
        "DocQAExporter": "qa",
        "DPOExporter": "preference",
        "export": "exporters",
        "ExportSummary": "exporters",
        "from_dataset": "interchange",
        "from_hub": "interchange",
        "is_table_source": "interchange",
        "iter_records": "jsonl",
        "iter_rows": "tables",
        "JsonlWriter": "jsonl",
        "KTOExporter": "preference",
        "LineageStats": "card",
        "OnBadLine": "jsonl",
        "open_writer": "interchange",
        "OpenAIExporter": "exporters",
        "PARQUET_SUFFIXES": "interchange",
        "push_to_hub": "interchange",
        "read_records": "interchange",
        "render_card": "card",
        "ROW_GROUP_SIZE": "tables",
        "rows_of": "tables",
        "ShareGPTExporter": "exporters",
        "size_category": "card",
        "TableWriter": "tables",
        "to_arrow": "interchange",
        "to_dataset": "interchange",
        "to_pandas": "interchange",
        "to_polars": "interchange",
        "tool_chat": "chat",
        "ToolChat": "chat",
        "TRLExporter": "chat",
        "uses_tools": "chat",
        "write_card": "card",
        "write_records": "interchange",
    },
    globals(),
)
