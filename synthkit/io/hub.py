"""Pushing a run's data and its dataset card to the Hugging Face Hub, through ``huggingface_hub``.

The endpoint is ``HF_ENDPOINT`` (or ``endpoint=``), the token the usual one
(``HF_TOKEN``, or the file ``hf auth login`` wrote): synthkit never asks for it on the command
line, never prints it and never writes it anywhere.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import attrs

from synthkit._deps import require
from synthkit.errors import InputError, SynthkitError

__all__ = ["PushError", "PushResult", "push"]


class PushError(SynthkitError):
    """The Hub refused the push (no token, a wrong one, no right to the repository...)."""


@attrs.frozen
class PushResult:
    """What a push sent: the repository's URL, the commit, and the files, by their path in the repository."""

    repo_url: str
    commit_url: str
    files: tuple[str, ...]


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def push(
    data: str | Path,
    repo: str,
    *,
    rejects: Sequence[str | Path] = (),
    private: bool = False,
    split: str = "train",
    name: str | None = None,
    description: str | None = None,
    license: str | None = None,  # noqa: A002 - the Hub's own word
    language: Sequence[str] = (),
    tags: Sequence[str] = (),
    message: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> PushResult:
    """Push ``data`` (JSONL or Parquet) and its dataset card to the dataset repository ``repo`` (``user/name``).

    The data goes to ``data/{split}.jsonl`` (or ``.parquet``); the card (:func:`~synthkit.io.card.write_card`,
    with ``rejects`` for true pass rates) to ``README.md``, with a ``configs`` entry so the Hub's
    viewer and ``load_dataset`` find the data. The repository is created when it does not exist.

    Raises:
        InputError: the data file is missing, or ``repo`` is not ``user/name``.
        PushError: the Hub refused (the message says why; the token is never in it).
    """
    require("huggingface_hub", extra="hub")
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.utils import get_token

    from synthkit.io.card import CardInfo, write_card

    data = Path(data)
    if not data.is_file():
        msg = f"{data} does not exist; give the JSONL or Parquet file of a run"
        raise InputError(msg)
    if repo.count("/") != 1 or not all(repo.split("/")):
        msg = f"--repo takes a dataset repository as user/name (or org/name), got {repo!r}"
        raise InputError(msg)
    token = token or get_token()
    if token is None:
        msg = "no Hugging Face token: set HF_TOKEN, or run `hf auth login`, then push again"
        raise PushError(msg)
    suffix = ".parquet" if data.suffix.lower() in (".parquet", ".pq") else ".jsonl"
    data_path = f"data/{split}{suffix}"
    api = HfApi(endpoint=endpoint, token=token)
    with tempfile.TemporaryDirectory() as tmp:
        info = CardInfo(name=name, description=description, license=license, language=tuple(language), tags=tuple(tags), data_file=data_path, split=split)
        card = write_card(data, Path(tmp) / "README.md", rejects=list(rejects), info=info)
        ops = [CommitOperationAdd(path_in_repo=data_path, path_or_fileobj=str(data)), CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(card))]
        try:
            url = api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
            commit = api.create_commit(repo, ops, commit_message=message or f"synthkit push {data.name}", repo_type="dataset")
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            hint = " (check the token: HF_TOKEN or `hf auth login`)" if status in (401, 403) else ""
            msg = _scrub(f"the Hub refused the push to {repo}: {exc}{hint}", token)
            raise PushError(msg) from None
        except OSError as exc:  # the endpoint cannot be reached
            msg = _scrub(f"cannot reach the Hub at {api.endpoint}: {exc}", token)
            raise PushError(msg) from None
    return PushResult(repo_url=str(url), commit_url=commit.commit_url, files=(data_path, "README.md"))
