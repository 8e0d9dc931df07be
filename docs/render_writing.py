"""Render the calendar and statistics pages (issue 16) to docs/, light and dark, through `mirror-desktop`.

    python docs/render_writing.py [JOURNAL_DIR]

Without a folder, a journal of 1,500 reflections ending today is generated (benchmarks/generate.py),
so the month shown has writing in it. Each picture is the real window: `mirror-desktop --view
calendar|stats --screenshot PNG` with the theme set in that journal's settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "journal"
        if len(sys.argv) <= 1:
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--data-dir", str(journal),
                            "--reflections", "1500", "--end", "today"], check=True, env=env, stdout=subprocess.DEVNULL)
        work = Path(tmp) / "copy"
        shutil.copytree(journal, work, ignore=shutil.ignore_patterns("*.lock"))
        from mirror_desktop.paths import AppPaths

        settings = AppPaths.resolve(str(work)).settings_file
        settings.parent.mkdir(parents=True, exist_ok=True)
        for theme in ("light", "dark"):
            settings.write_text(f"[General]\ntheme={theme}\nwelcome_shown=true\n")
            for view in ("calendar", "stats"):
                name = f"{view}{'-dark' if theme == 'dark' else ''}.png"
                subprocess.run([sys.executable, "-m", "mirror_desktop", "--data-dir", str(work), "--view", view,
                                "--screenshot", str(HERE / name)], check=True, env=env)
                print(HERE / name)


if __name__ == "__main__":
    main()
