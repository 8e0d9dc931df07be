"""Render the mirrorback panel offscreen to docs/mirrorback-panel.png (and -dark.png), through the real flow.

    QT_QPA_PLATFORM=offscreen python docs/render_mirrorback_panel.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mirror_desktop.core.services import JournalService  # noqa: E402
from mirror_desktop.core.tensions import TensionService  # noqa: E402
from mirror_desktop.storage.journal import SQLiteStorage  # noqa: E402
from mirror_desktop.ui.theme import apply_theme  # noqa: E402
from mirror_desktop.ui.mirrorback.panel import MirrorbackPanel  # noqa: E402
from mirror_desktop.workers.executor import DatabaseExecutor  # noqa: E402
from mirror_desktop.workers.mirrorbacks import MirrorbacksClient  # noqa: E402

ENTRY = ("I have to finish the report tonight, and I keep controlling every detail. Part of me wants to quit, "
         "but part of me loves the work. I want freedom but I also need security.")


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> None:
    out = Path(__file__).resolve().parent
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "mirror_os.db"
        s = SQLiteStorage(db)
        TensionService(s).ensure_seeds()
        rid = JournalService(s).save_reflection(ENTRY).id
        s.close()
        for theme, name in (("light", "mirrorback-panel.png"), ("dark", "mirrorback-panel-dark.png")):
            apply_theme(theme, app)
            ex = DatabaseExecutor(lambda: SQLiteStorage(db))
            ex.start()
            panel = MirrorbackPanel(MirrorbacksClient(ex))
            panel.resize(720, 420)
            panel.set_reflection(rid)
            panel.show()
            panel.reflect_requested()
            for _ in range(100):
                wait(30)
                if panel.current is not None and not panel.busy:
                    break
            panel.feedback_toggle.setChecked(True)
            panel.rating_buttons[3].setChecked(True)
            panel.flag_buttons["too_generic"].setChecked(True)
            wait(50)
            panel.adjustSize()
            panel.resize(720, panel.heightForWidth(720) if panel.hasHeightForWidth() else panel.sizeHint().height())
            wait(50)
            panel.grab().save(str(out / name))
            panel.shutdown()
            panel.close()
            ex.shutdown()
    print("wrote", out / "mirrorback-panel.png")


if __name__ == "__main__":
    main()
