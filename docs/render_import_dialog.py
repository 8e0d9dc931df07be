"""Render File → Import from another app… after its dry run, offscreen, through the real window.

    QT_QPA_PLATFORM=offscreen python docs/render_import_dialog.py

Writes docs/import-dialog.png (light) and docs/import-dialog-dark.png. The journal and a small Day
One export (with one empty entry, so the report shows a skipped one) are made in a temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
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
ENTRIES = [
    ("A long walk by the river. I kept thinking about the move and what I would miss.", "2019-05-02T18:40:00Z"),
    ("First day at the new job. Nervous, then fine.", "2019-09-02T07:55:00Z"),
    ("", "2019-09-03T21:00:00Z"),
    ("Snow. The whole street quiet.", "2020-01-14T08:10:00Z"),
]



def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="mirror-demo-") as tmp:
        home = Path(tmp)
        export = home / "Day One Export.zip"
        entries = [{"uuid": f"E{n}", "text": t, "creationDate": d, "timeZone": "Europe/Madrid", "tags": ["walks"]}
                   for n, (t, d) in enumerate(ENTRIES)]
        with zipfile.ZipFile(export, "w") as zf:
            zf.writestr("Journal.json", json.dumps({"metadata": {"version": "1.0"}, "entries": entries}))
        paths = AppPaths.resolve(home / "journal")
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        s = SQLiteStorage(paths.database)
        JournalService(s).create_identity("Personal")
        s.close()
        window, ex = open_window(paths, 1280, 800)
        wait_until(lambda: window.is_open)
        for theme, name in (("light", "import-dialog.png"), ("dark", "import-dialog-dark.png")):
            apply_theme(theme, app)
            window.show_import_from_app()
            dialog = window.import_from_app_dialog
            wait_until(lambda: dialog.identity.count() == 2)
            dialog.app.setCurrentIndex(dialog.app.findData("dayone"))
            dialog.path.setText(str(export))
            dialog.identity.setCurrentIndex(1)
            shown: list[object] = []
            dialog.report_shown.connect(shown.append)
            dialog.check_button.click()
            wait_until(lambda: bool(shown))
            app.processEvents()
            dialog.grab().save(str(ROOT / "docs" / name))
            dialog.report_shown.disconnect(shown.append)
            dialog.reject()
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
