"""Attachments (issue 15, item 3): content-addressed, size-capped, sniffed, deleted with their reflection."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from attachment_samples import png_bytes
from mirror_desktop.core import attachments as att
from mirror_desktop.core import models as m
from mirror_desktop.core.services import JournalService


def _reflection(storage: Any, text: str = "A day with a picture.") -> m.Reflection:
    return JournalService(storage).save_reflection(text)


def test_add_keeps_bytes_once_by_sha256_and_reads_them_back(storage: Any) -> None:
    r1, r2 = _reflection(storage), _reflection(storage, "Another.")
    data = png_bytes()
    a1 = att.add_attachment(storage, r1.id, data, filename="beach.png")
    a2 = att.add_attachment(storage, r2.id, io.BytesIO(data), filename="copy.png")
    again = att.add_attachment(storage, r1.id, data, filename="beach.png")
    assert a1.sha256 == a2.sha256 == hashlib.sha256(data).hexdigest()
    assert again.id == a1.id and storage.attachments.count() == 2
    assert a1.mime_type == "image/png" and a1.size_bytes == len(data) and a1.filename == "beach.png"
    assert att.read_blob(storage, a1.sha256) == data
    assert [a.id for a in att.attachments_of(storage, r1.id)] == [a1.id]
    folder = att.blob_folder(storage)
    if folder is not None:  # SQLite: one private file beside the journal, whatever the number of rows
        files = [p for p in folder.glob("*/*") if p.parent.name != "tmp"]
        assert [p.name for p in files] == [a1.sha256]
        assert files[0].stat().st_mode & 0o777 == 0o600
        assert folder == Path(storage.location).with_name("mirror_os.attachments")


def test_type_comes_from_the_bytes_not_the_name(storage: Any, tmp_path: Path) -> None:
    r = _reflection(storage)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
    assert att.add_attachment(storage, r.id, jpeg, filename="photo.png").mime_type == "image/jpeg"
    exe = tmp_path / "holiday.jpg"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    with pytest.raises(att.AttachmentTypeRefused, match="holiday.jpg is a program"):
        att.add_attachment(storage, r.id, exe)
    with pytest.raises(att.AttachmentTypeRefused, match="not a picture"):
        att.add_attachment(storage, r.id, b"just some text, really" * 10, filename="notes.png")
    with pytest.raises(att.AttachmentRefused, match="empty"):
        att.add_attachment(storage, r.id, b"", filename="nothing.png")
    assert storage.attachments.count() == 1
    folder = att.blob_folder(storage)
    if folder is not None:
        assert list((folder / "tmp").iterdir()) == []  # refused files leave no temp behind


@pytest.mark.parametrize(("head", "mime"), [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "image/png"), (b"GIF89a" + b"\0" * 8, "image/gif"),
    (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"), (b"\0\0\0\x18ftypheic\0\0\0\0", "image/heic"),
    (b"%PDF-1.7\n", "application/pdf"), (b"\0\0\0\x14ftypqt  ", "video/quicktime"),
    (b"\x7fELF\x02\x01\x01", None), (b"#!/bin/sh\nrm -rf /", None), (b"PK\x03\x04zip", None), (b"", None),
])
def test_sniffer(head: bytes, mime: str | None) -> None:
    assert att.sniff_type(head) == mime


def test_size_cap_refuses_before_reading_a_huge_file(storage: Any, tmp_path: Path) -> None:
    r = _reflection(storage)
    big = tmp_path / "huge.png"
    with big.open("wb") as fh:  # sparse: 2 GB on paper, nothing on disk
        fh.write(png_bytes())
        fh.truncate(2 * 1024 ** 3)
    with pytest.raises(att.AttachmentTooLarge, match="huge.png is 2048 MB, more than the 50 MB"):
        att.add_attachment(storage, r.id, big)
    with pytest.raises(att.AttachmentTooLarge, match="more than the 1 KB"):  # a stream has no size up front
        att.add_attachment(storage, r.id, io.BytesIO(png_bytes() + b"\0" * 4000), filename="s.png", max_bytes=1024)
    assert storage.attachments.count() == 0


def test_inside_a_callers_transaction_rollback_leaves_no_row_and_the_sweep_removes_the_blob(storage: Any) -> None:
    r = _reflection(storage)
    data = png_bytes(rgb=(1, 2, 3))
    prepared = att.prepare_attachment(storage, data, filename="x.png")
    with pytest.raises(RuntimeError), storage.transaction():
        att.attach_prepared(storage, r.id, prepared)
        assert storage.attachments.count() == 1
        raise RuntimeError("the import failed later")
    assert storage.attachments.count() == 0
    assert not prepared.temp_path.exists()
    att.sweep_orphans(storage)
    with pytest.raises(att.NotFoundError):
        att.read_blob(storage, prepared.sha256)


def test_deleting_the_reflection_removes_rows_and_unshared_files(storage: Any) -> None:
    svc = JournalService(storage)
    r1, r2 = _reflection(storage), _reflection(storage, "Two.")
    shared, own = png_bytes(rgb=(9, 9, 9)), png_bytes(rgb=(7, 7, 7))
    a_shared = att.add_attachment(storage, r1.id, shared, filename="s.png")
    att.add_attachment(storage, r2.id, shared, filename="s.png")
    a_own = att.add_attachment(storage, r1.id, own, filename="o.png")
    svc.delete_reflection(r1.id)
    assert storage.attachments.count() == 1
    assert att.read_blob(storage, a_shared.sha256) == shared  # r2 still holds it
    with pytest.raises(att.NotFoundError):
        att.read_blob(storage, a_own.sha256)
    if att.blob_folder(storage) is not None:
        assert att.blob_path(storage, a_own.sha256) is None
    svc.delete_reflection(r2.id)
    with pytest.raises(att.NotFoundError):
        att.read_blob(storage, a_shared.sha256)


def test_attaching_to_a_missing_reflection_is_refused(storage: Any) -> None:
    with pytest.raises(att.NotFoundError):
        att.add_attachment(storage, "00000000-0000-4000-8000-000000000000", png_bytes())
    assert storage.attachments.count() == 0


def test_reference_syntax_round_trips() -> None:
    a = m.Attachment(reflection_id="r", sha256="ab" * 32, mime_type="image/png", size_bytes=3, filename="sea [1].png")
    ref = att.reference(a)
    assert ref == f"![sea  1 .png](attachment:{'ab' * 32})"
    assert att.references_in(f"text {ref} more {ref}") == ["ab" * 32]
