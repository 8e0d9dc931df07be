"""Render File → Export as… offscreen through the real window, after a PDF export. Writes docs/export-as.png.

    QT_QPA_PLATFORM=offscreen python docs/render_export_as.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from mirror_desktop.core.services import JournalService  # noqa: E402
from mirror_desktop.paths import AppPaths  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.ui.theme import apply_theme  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
from render_common import open_window, wait_until  # noqa: E402



def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(sys.argv[1] if len(sys.argv) > 1 else "light", app)
    with tempfile.TemporaryDirectory(prefix="mirror-demo-") as tmp:
        paths = AppPaths.resolve(Path(tmp) / "journal")
        s = SQLiteStorage(paths.database)
        svc = JournalService(s)
        work = svc.create_identity("Work self")
        svc.create_identity("Home")
        for i in range(12):
            svc.save_reflection(f"Day {i}: a note about the week.", identity_id=work.id)
        s.close()
        window, ex = open_window(paths, 1100, 700)
        wait_until(lambda: window.is_open)
        window.show_export_as()
        wait_until(lambda: getattr(window, "export_as_dialog", None) is not None)
        d = window.export_as_dialog
        d.format_combo.setCurrentIndex(d.format_combo.findData("pdf"))
        d.identity_combo.setCurrentIndex(d.identity_combo.findData(work.id))
        d.folder_edit.setText(str(Path(tmp) / "Leaving with my words"))
        done: list[object] = []
        window.exports_client.export_finished.connect(done.append)
        d.export_button.click()
        wait_until(lambda: bool(done))
        QApplication.processEvents()
        d.grab().save(str(ROOT / "docs" / "export-as.png"))
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
