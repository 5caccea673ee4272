"""The Hugging Face Hub client of `datasets --download` (alchemist/download.py), kept apart so the
orchestration does not carry the client's details.

The client is `huggingface_hub`, pointed at HF_ENDPOINT (a mirror, or the tests' local stand-in) with
HF_TOKEN when set; the token is only ever sent to that endpoint, never printed or written. Whatever the
client raises becomes one line naming the file (DatasetError), and a file's bytes go to our progress display
rather than tqdm's. huggingface_hub is imported only when a request is made, so loading this module (and
the `datasets` table that imports it) costs nothing.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterator

from alchemist.core.errors import AlchemistError, DatasetError
from alchemist.core.progress import Progress
from alchemist.core.safe_text import redact
from alchemist.data.download.sources import Source, human_size

DEFAULT_ENDPOINT = "https://huggingface.co"


class Hub:
    """The Hugging Face Hub through huggingface_hub, at HF_ENDPOINT with HF_TOKEN (read when called, so a
    mirror set after start-up is used)."""

    def __init__(self, src: Source, folder: Path, progress: Progress):
        self.src, self.folder, self.progress = src, folder, progress
        self.endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token = os.environ.get("HF_TOKEN") or None  # None: huggingface_hub's own login, if any

    def check_name(self) -> None:
        """Fail at once, not after the client's back-off (~20 s of retries), when the Hub's host name does not
        resolve: no network, no DNS, or a mistyped HF_ENDPOINT."""
        import socket
        from urllib.parse import urlparse

        host = urlparse(self.endpoint).hostname or self.endpoint
        try:
            socket.getaddrinfo(host, None)
        except (socket.gaierror, UnicodeError) as e:
            raise DatasetError(f"{self.endpoint}: cannot resolve {host} ({getattr(e, 'strerror', None) or e}): no "
                               "network or no DNS here; check the network, or set HF_ENDPOINT to a mirror; nothing "
                               "was written") from None

    def resolve(self, pattern: str) -> list[str]:
        """A plain path as is; a * pattern matched against the files of its folder at the pinned revision."""
        if not any(c in pattern for c in "*?["):
            return [pattern]
        folder, _, name = pattern.rpartition("/")
        with self._errors(pattern):
            from huggingface_hub import HfApi
            from huggingface_hub.hf_api import RepoFile

            entries = HfApi(endpoint=self.endpoint, token=self.token).list_repo_tree(
                self.src.repo, folder or None, repo_type="dataset", revision=self.src.revision)
            # dataset_info(s).json is the Hub's metadata, never data
            paths = sorted(e.path for e in entries if isinstance(e, RepoFile)
                           and fnmatch(e.path.rpartition("/")[2], name) and not e.path.endswith(
                               ("dataset_infos.json", "dataset_info.json")))
        if not paths:
            raise DatasetError(f"{self.src.repo}:{pattern} (revision {self.src.revision[:12]}, {self.endpoint}): "
                               "no file matches; nothing was written")
        return paths

    def get(self, path: str) -> Path:
        with self._errors(path):
            from huggingface_hub import hf_hub_download

            local = hf_hub_download(self.src.repo, path, repo_type="dataset", revision=self.src.revision,
                                    local_dir=self.folder, cache_dir=self.folder / ".hf-cache",
                                    endpoint=self.endpoint, token=self.token,
                                    tqdm_class=bar_class(self.progress, f"{self.src.name}: {path.rpartition('/')[2]}"))
        return Path(local)

    @contextmanager
    def _errors(self, path: str) -> Iterator[None]:
        """Whatever the client raises becomes one line naming the file (never the token)."""
        try:
            yield
        except AlchemistError:
            raise
        except Exception as e:  # the client's own errors, httpx's, OSError: all of them are "it failed"
            where = f"{self.src.repo}:{path} (revision {self.src.revision[:12]}, {self.endpoint})"
            raise DatasetError(redact(f"{where}: {_explain(e)}; nothing was written")) from None


def _explain(e: Exception) -> str:
    from huggingface_hub import errors

    status = getattr(getattr(e, "response", None), "status_code", None)
    if isinstance(e, errors.GatedRepoError):
        return "the dataset is gated: accept its terms on its Hub page, then set HF_TOKEN"
    if isinstance(e, errors.RepositoryNotFoundError):
        return "repository not found, or private (set HF_TOKEN if you have access)"
    if isinstance(e, errors.RevisionNotFoundError):
        return "that revision is not in the repository"
    if isinstance(e, errors.LocalEntryNotFoundError) or isinstance(e, (ConnectionError, TimeoutError)) \
            or type(e).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout"):
        return f"cannot reach the Hub ({type(e).__name__}); check the network, or set HF_ENDPOINT to a mirror"
    if isinstance(e, errors.EntryNotFoundError):
        return "no such file (HTTP 404)"
    if status:
        return f"HTTP {status} from the Hub"
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {first}"[:300]


def bar_class(progress: Progress, label: str) -> type:
    """A tqdm look-alike for hf_hub_download's `tqdm_class`: a file's bytes, counted in kB, go to our
    progress display (a bar on a terminal, plain lines in logs), with the file's size in its name."""

    class _Bar:
        def __init__(self, *args: object, total: int | None = None, initial: int = 0, **kwargs: object):
            self.n, self.total, self.shown = initial, total, 0
            name = f"{label} ({human_size(total)})" if total else label
            self.stage = progress.stage(name, total=math.ceil(total / 1000) if total else None, unit="kB")
            self.stage.__enter__()
            self.update(0)

        def update(self, n: int = 1) -> None:
            self.n += n
            kb = math.ceil(self.n / 1000)
            if kb > self.shown:
                self.stage.advance(kb - self.shown)
                self.shown = kb

        def update_transfer(self, n: int = 1) -> None:
            """Network bytes of a Xet download: its file bytes are counted once, by update()."""

        def set_postfix_str(self, *args: object, **kwargs: object) -> None:
            pass

        set_transfer_postfix_str = set_postfix_str
        refresh = set_postfix_str

        def close(self, *exc: object) -> None:
            if self.stage is not None:
                self.stage.__exit__(*(exc or (None, None, None)))
                self.stage = None

        def __enter__(self) -> "_Bar":
            return self

        def __exit__(self, *exc: object) -> None:
            self.close(*exc)

    return _Bar

