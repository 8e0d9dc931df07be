"""Render a reflection with pictures (issue 15) offscreen, through the real window: the editor with
its thumbnail strip on the left, the preview on the right. Writes docs/attachments.png.

    QT_QPA_PLATFORM=offscreen python docs/render_attachments.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPixmap, QRadialGradient  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mirror_desktop.core import attachments as att  # noqa: E402
from mirror_desktop.core import models as m  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.ui.theme import apply_theme  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
from render_common import open_window, wait_until  # noqa: E402



def picture(w: int, h: int, sky: str, sea: str, sun: str) -> bytes:
    """A small painted seascape as PNG bytes (no photo files in the repository)."""
    img = QImage(w, h, QImage.Format.Format_RGB32)
    p = QPainter(img)
    g = QLinearGradient(0, 0, 0, h)
    g.setColorAt(0, QColor(sky))
    g.setColorAt(0.6, QColor("#f6d7b0"))
    p.fillRect(0, 0, w, h, g)
    r = QRadialGradient(QPointF(w * 0.7, h * 0.5), h * 0.18)
    r.setColorAt(0, QColor(sun))
    r.setColorAt(1, QColor(0, 0, 0, 0))
    p.fillRect(0, 0, w, h, r)
    p.fillRect(0, int(h * 0.62), w, h, QColor(sea))
    p.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(data.data())


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme("light", app)
    with tempfile.TemporaryDirectory(prefix="mirror-demo-") as tmp:
        paths = AppPaths.resolve(Path(tmp) / "journal")
        s = SQLiteStorage(paths.database)
        r = s.reflections.create(m.Reflection(content="placeholder", created_at=datetime(2026, 8, 14, 20, 5, tzinfo=UTC),
                                              metadata={"tags": ["sea", "holiday"]}))
        a1 = att.add_attachment(s, r.id, picture(640, 400, "#7fb2e5", "#245d8c", "#fff3c4"), filename="evening.png")
        a2 = att.add_attachment(s, r.id, picture(480, 360, "#c58db8", "#3b4f7a", "#ffd27a"), filename="harbour.png")
        s.reflections.update(m.Reflection(**{**r.__dict__, "content": (
            "# Last evening by the sea\n\nWe walked along the harbour until the light went soft. "
            f"I want to remember how quiet it was.\n\n{att.reference(a1, 'The bay at eight')}\n\n"
            f"The boats came in one by one.\n\n{att.reference(a2, 'Harbour')}\n")}))
        s.close()
        window, ex = open_window(paths, 1280, 900)
        wait_until(lambda: window.is_open and window.list_model.rowCount() == 1)
        window.journal.open_reflection(r.id)
        strip = window.editor.attachments
        wait_until(lambda: strip.count() == 2 and all(not strip.item(i).icon().isNull() for i in range(2)))
        editor_shot = window.editor.grab()
        window.editor.set_preview(True)
        wait_until(lambda: len(window.editor.preview._images) == 2)
        QApplication.processEvents()
        preview_shot = window.editor.grab()
        out = QPixmap(editor_shot.width() + preview_shot.width() + 16, max(editor_shot.height(), preview_shot.height()))
        out.fill(QColor("#d9d6cf"))
        p = QPainter(out)
        p.drawPixmap(0, 0, editor_shot)
        p.drawPixmap(editor_shot.width() + 16, 0, preview_shot)
        p.end()
        out.scaledToWidth(min(out.width(), 2000), Qt.TransformationMode.SmoothTransformation).save(
            str(ROOT / "docs" / "attachments.png"))
        window.close()
        ex.stop() if hasattr(ex, "stop") else None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
