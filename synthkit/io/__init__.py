"""Records in and out: JSONL, Arrow and Parquet tables, Hugging Face datasets and frames, trainer formats, dataset cards.

* :mod:`~synthkit.io.card`: Dataset cards: a Hugging Face ``README.md`` that summarises a set's lineage.
* :mod:`~synthkit.io.chat`: Conversations with tool calls in trainer formats: OpenAI fine-tuning, ShareGPT as LLaMA-Factory reads it, TRL.
* :mod:`~synthkit.io.exporters`: Trainer formats: OpenAI chat ``messages``, ShareGPT ``conversations``, Alpaca; and the export run.
* :mod:`~synthkit.io.interchange`: Records in and out of JSONL, Parquet, Hugging Face ``datasets``, pandas and polars.
* :mod:`~synthkit.io.jsonl`: JSONL sources and sinks. Errors name the file and the line.
* :mod:`~synthkit.io.tables`: Records as Arrow tables: the column rule, a streaming Parquet (or Arrow) writer, a row reader.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "AlpacaExporter",
    "BadLine",
    "CardInfo",
    "Conversation",
    "ExportSummary",
    "JsonlWriter",
    "LineageStats",
    "OnBadLine",
    "OpenAIExporter",
    "PARQUET_SUFFIXES",
    "ROW_GROUP_SIZE",
    "ShareGPTExporter",
    "TRLExporter",
    "TableWriter",
    "ToolChat",
    "check_source",
    "collect",
    "conversation",
    "dataset_card",
    "export",
    "from_dataset",
    "from_hub",
    "is_table_source",
    "iter_records",
    "iter_rows",
    "open_writer",
    "push_to_hub",
    "read_records",
    "render_card",
    "rows_of",
    "size_category",
    "to_arrow",
    "to_dataset",
    "to_pandas",
    "to_polars",
    "tool_chat",
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
        "Conversation": "exporters",
        "TRLExporter": "chat",
        "ToolChat": "chat",
        "ExportSummary": "exporters",
        "JsonlWriter": "jsonl",
        "LineageStats": "card",
        "OnBadLine": "jsonl",
        "OpenAIExporter": "exporters",
        "PARQUET_SUFFIXES": "interchange",
        "ROW_GROUP_SIZE": "tables",
        "ShareGPTExporter": "exporters",
        "TableWriter": "tables",
        "check_source": "interchange",
        "collect": "card",
        "conversation": "exporters",
        "dataset_card": "card",
        "export": "exporters",
        "from_dataset": "interchange",
        "from_hub": "interchange",
        "is_table_source": "interchange",
        "iter_records": "jsonl",
        "iter_rows": "tables",
        "open_writer": "interchange",
        "push_to_hub": "interchange",
        "read_records": "interchange",
        "render_card": "card",
        "rows_of": "tables",
        "size_category": "card",
        "to_arrow": "interchange",
        "to_dataset": "interchange",
        "to_pandas": "interchange",
        "to_polars": "interchange",
        "tool_chat": "chat",
        "uses_tools": "chat",
        "write_card": "card",
        "write_records": "interchange",
    },
    globals(),
)
