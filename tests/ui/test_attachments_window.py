"""Attachments in the window (issue 15, item 3): pasted or picked pictures are kept with the reflection,
shown as thumbnails under the text and in the preview; an executable is refused in one sentence."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QColor, QImage

from mirror_desktop.core import attachments as att
from mirror_desktop.storage.journal import SQLiteStorage

from ui_helpers import read

sys.path.insert(0, str(Path(__file__).parents[1] / "attachments"))
from attachment_samples import png_bytes  # noqa: E402


def _type(w, qtbot, text: str) -> None:
    w.new_action.trigger()
    with qtbot.waitSignal(w.client.reflection_saved, timeout=10000):
        qtbot.keyClicks(w.editor.text, text)
    qtbot.waitUntil(lambda: not w.autosave.dirty, timeout=10000)


def test_pasted_image_is_kept_referenced_thumbnailed_and_previewed(make_window, journal_dir, qtbot):
    w = make_window()
    _type(w, qtbot, "The sea today. ")
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("#2a7ab8"))
    mime = QMimeData()
    mime.setImageData(image)
    ea = w.journal.editor_attachments
    with qtbot.waitSignal(ea.client.attachment_added, timeout=10000) as added:
        w.editor.text.insertFromMimeData(mime)
    a = added.args[0]
    assert a.mime_type == "image/png" and a.filename == "pasted image.png"
    assert f"(attachment:{a.sha256})" in w.editor.content()
    qtbot.waitUntil(lambda: w.editor.attachments.count() == 1
                    and not w.editor.attachments.item(0).icon().isNull(), timeout=10000)
    qtbot.waitUntil(lambda: not w.autosave.dirty, timeout=10000)
    stored = read(journal_dir, lambda s: s.reflections_page())[0]
    assert att.references_in(stored.content) == [a.sha256]
    s = SQLiteStorage(journal_dir / "mirror_os.db", migrate=False)
    try:
        assert [x.sha256 for x in att.attachments_of(s, stored.id)] == [a.sha256]
        assert att.blob_path(s, a.sha256) is not None
    finally:
        s.close()
    with qtbot.waitSignal(ea.client.image_ready, timeout=10000):
        w.editor.set_preview(True)
    qtbot.waitUntil(lambda: a.sha256 in w.editor.preview._images, timeout=10000)
    assert 160 <= w.editor.preview._images[a.sha256].width() <= 300  # fitted to the preview, never enlarged


def test_an_executable_dropped_in_is_refused_in_one_sentence(make_window, journal_dir, qtbot, tmp_path):
    w = make_window()
    _type(w, qtbot, "Trying to attach a program.")
    exe = tmp_path / "holiday.jpg"
    exe.write_bytes(b"MZ\x90\x00" + b"\0" * 300)
    w.editor.attach_requested.emit([(str(exe), "holiday.jpg")])
    qtbot.waitUntil(lambda: w.editor.banner.isVisible() and "holiday.jpg is a program" in w.editor.banner.text,
                    timeout=10000)
    assert "attachment:" not in w.editor.content()


def test_an_empty_page_cannot_hold_a_picture(make_window, qtbot):
    w = make_window()
    w.new_action.trigger()
    w.editor.attach_requested.emit([(png_bytes(), "x.png")])
    assert "Write something first" in w.editor.banner.text
