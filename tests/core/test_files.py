"""Writing outputs: a device or a link is never replaced; addresses are shown without their secrets."""

from __future__ import annotations

import os
import stat

import pytest

from alchemist.core.errors import AlchemistError
from alchemist.core.files import atomic_write_text, check_writable
from alchemist.core.safe_text import safe_url


def test_a_fifo_is_written_in_place_and_a_link_keeps_pointing_at_its_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # someone reading, as a shell's `| cat` would
    check_writable(fifo, "--json", folder=False)
    atomic_write_text(fifo, "report")
    assert os.read(reader, 100) == b"report" and stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a pipe
    os.close(reader)
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_dev_null_stays_a_device():
    atomic_write_text(os.devnull, "nothing")  # type: ignore[arg-type]
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_an_output_under_a_file_or_a_folder_as_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(AlchemistError, match="is a file"):
        check_writable(tmp_path / "f" / "out", "--out")
    with pytest.raises(AlchemistError, match="that is a folder"):
        check_writable(tmp_path, "--json", folder=False)


def test_addresses_are_shown_without_passwords_or_query_values():
    shown = safe_url("http://user:pw-SECRET789@127.0.0.1:8000/v1?api_key=tok-SECRET456&x=1")
    assert "SECRET" not in shown and shown.startswith("http://user:[redacted]@127.0.0.1:8000/v1?api_key=")
    assert safe_url("https://api.openai.com/v1") == "https://api.openai.com/v1" and safe_url(None) == ""
