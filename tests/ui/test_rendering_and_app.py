"""Rendering what people wrote (no file read, no request, no script) and the app's start-up paths."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QImage

from mirror_desktop.ui.journal.markdown_view import SafeMarkdownView


class _Listener:
    """A TCP port on 127.0.0.1 that counts every connection attempt."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.hits += 1
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self._stop = True
        self._t.join(2)
        self.sock.close()


def test_hostile_notes_render_without_reads_requests_or_scripts(qtbot, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"MARKER-SHOULD-NOT-BE-READ")
    listener = _Listener()
    view = SafeMarkdownView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    refused: list[str] = []
    view.resource_refused.connect(refused.append)
    corpus = "\n\n".join([
        "[x](file:///etc/passwd)",
        f"![img](file://{secret})",
        f"<img src=http://127.0.0.1:{listener.port}/a.png>",
        f"![remote](http://127.0.0.1:{listener.port}/b.png)",
        "<script>document.title='pwned'</script>",
        f"<iframe src='http://127.0.0.1:{listener.port}/'></iframe>",
        "<style>body{display:none}</style> plain words",
    ])
    try:
        view.set_markdown(corpus)
        qtbot.wait(300)
        assert listener.hits == 0
    finally:
        listener.close()
    html = view.toHtml().lower()
    # Raw HTML is shown as the text it is, never as markup.
    assert "<script" not in html and "<iframe" not in html
    assert "<style>body{display:none}</style>" in view.toPlainText()
    assert "&lt;script&gt;" in html
    assert "MARKER" not in view.toPlainText()
    # Markdown images ask for their resource, and every request was refused (they show as nothing).
    assert any("b.png" in u for u in refused) and any("secret.png" in u for u in refused)
    assert "plain words" in view.toPlainText()


def test_links_open_only_after_confirmation_and_only_for_web_and_mail(qtbot, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString()) or True))
    view = SafeMarkdownView()
    qtbot.addWidget(view)
    asked: list[str] = []
    answer = {"value": False}
    view.confirm = lambda url: asked.append(url.toString()) or answer["value"]
    refused: list[str] = []
    view.link_refused.connect(refused.append)
    view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    view.anchorClicked.emit(QUrl("javascript:alert(1)"))
    assert refused == ["file:///etc/passwd", "javascript:alert(1)"] and asked == [] and opened == []
    view.anchorClicked.emit(QUrl("https://example.org/"))
    assert asked == ["https://example.org/"] and opened == []  # declined
    answer["value"] = True
    view.anchorClicked.emit(QUrl("mailto:me@example.org"))
    assert opened == ["mailto:me@example.org"]


def _run_app(*args: str, timeout: int = 90) -> subprocess.CompletedProcess[str]:
    env_code = "import os; os.environ['QT_QPA_PLATFORM']='offscreen'; import sys; from mirror_desktop.app import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", env_code, *args], capture_output=True, text=True, timeout=timeout)


def test_screenshot_of_a_new_journal(tmp_path):
    png = tmp_path / "shot.png"
    proc = _run_app("--data-dir", str(tmp_path / "j"), "--screenshot", str(png))
    assert proc.returncode == 0, proc.stderr
    img = QImage(str(png))
    assert (img.width(), img.height()) == (1280, 800)
    assert (tmp_path / "j" / "mirror_os.db").exists()


@pytest.mark.parametrize("view", ["reflections", "threads", "tensions", "search"])
def test_screenshot_of_every_view_of_a_journal_with_a_thread(tmp_path, view):
    """Every --view renders (the threads view waits for a thread's timeline, which needs one)."""
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.storage.journal import SQLiteStorage

    storage = SQLiteStorage(tmp_path / "j" / "mirror_os.db")
    svc = JournalService(storage)
    r = svc.save_reflection("A walk by the river.", reflection_id="r1", identity_id=None, visibility="local_only",
                            tags=[], draft_id=None)
    svc.add_to_threads(r.id, [svc.create_thread("Walks", None).id])
    storage.close()
    png = tmp_path / f"{view}.png"
    proc = _run_app("--data-dir", str(tmp_path / "j"), "--view", view, "--screenshot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert QImage(str(png)).width() == 1280


def test_a_journal_that_cannot_be_opened_is_left_untouched(tmp_path):
    folder = tmp_path / "j"
    folder.mkdir()
    db = folder / "mirror_os.db"
    db.write_bytes(b"this is not an sqlite file, but it is someone's" * 100)
    before = db.read_bytes()
    proc = _run_app("--data-dir", str(folder), "--screenshot", str(tmp_path / "x.png"))
    assert proc.returncode == 2
    assert "not a Mirror journal" in proc.stderr
    assert db.read_bytes() == before
    assert not (tmp_path / "x.png").exists()


def test_open_failure_offers_quit_or_another_folder(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from mirror_desktop.app import MirrorApp
    from mirror_desktop.paths import AppPaths
    from mirror_desktop.ui.dialogs import open_failed

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mirror_os.db").write_bytes(b"garbage" * 50)
    good = tmp_path / "good"
    sentences: list[str] = []
    monkeypatch.setattr(open_failed, "ask", lambda s, parent=None: sentences.append(s) or open_failed.CHOOSE)
    monkeypatch.setattr(open_failed, "choose_folder", lambda parent=None, start="": str(good))
    mirror = MirrorApp(QApplication.instance(), AppPaths.resolve(bad))
    mirror.start()
    qtbot.waitUntil(lambda: mirror.window is not None and mirror.window.is_open, timeout=15000)
    assert sentences and "not a Mirror journal" in sentences[0]
    assert mirror.paths.data_dir == good.resolve()
    assert (good / "mirror_os.db").exists()
    mirror.shutdown()


def test_version_flag():
    proc = _run_app("--version")
    assert proc.returncode == 0 and "Mirror" in proc.stdout


def test_no_display_is_one_sentence_not_a_core_dump(tmp_path):
    """Issue 11: without a display Qt aborts ("reinstalling may fix this"); Mirror says what to do first."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = "import sys; from mirror_desktop.app import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "--data-dir", str(tmp_path / "j")], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("mirror-desktop: there is no display")
    assert "mirror` command" in proc.stderr and "reinstalling" not in proc.stderr
    assert not (tmp_path / "j").exists()  # nothing was created before the refusal


def test_a_missing_x11_library_is_named(monkeypatch):
    import ctypes.util

    from mirror_desktop.app import display_problem

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert "libxcb-cursor0" in (display_problem({"DISPLAY": ":0"}, "linux") or "")
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "darwin") is None


def test_the_theme_sets_every_palette_role_itself(qapp):
    """Issue 11: roles the theme left unset came from the desktop's palette (a black scrollbar groove was seen in
    the light theme on a real X display); every role of every colour group is now the theme's own."""
    from PySide6.QtGui import QPalette

    from mirror_desktop.ui.theme import apply_theme

    roles = [r for r in QPalette.ColorRole if r not in (QPalette.ColorRole.NColorRoles, QPalette.ColorRole.NoRole)]
    groups = (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled)
    try:
        for theme in ("light", "dark"):
            apply_theme(theme)
            pal = qapp.palette()
            unset = [(g.name, r.name) for g in groups for r in roles if not pal.isBrushSet(g, r)]
            assert unset == [], theme
        assert qapp.palette().color(QPalette.ColorRole.Shadow).name() == "#0c0d0f"
    finally:
        apply_theme("light")


def test_the_garbage_collector_pauses_for_start_up_and_collects_again_once_the_window_settles(tmp_path):
    """Issue 12 (first paint): no cycle collection while start-up makes its objects, collection again after it;
    importing the app module alone leaves the collector as it found it."""
    code = (
        "import os, sys, gc; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
        "from mirror_desktop import app as A\n"
        "print('after import', gc.isenabled(), flush=True)\n"
        "seen = []\n"
        "start = A.MirrorApp.start\n"
        "def traced(self):\n"
        "    seen.append(gc.isenabled())\n"
        "    start(self)\n"
        "    def settled():\n"
        "        print('while starting', seen[0], 'settled', gc.isenabled(), flush=True)\n"
        "        self.qapp.exit(0)\n"
        "    self.window.settled.connect(settled)\n"
        "A.MirrorApp.start = traced\n"
        "code = A.main(sys.argv[1:])\n"
        "print('after main', gc.isenabled(), flush=True)\n"
        "sys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", code, "--data-dir", str(tmp_path / "j")], capture_output=True,
                          text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert "after import True" in proc.stdout
    assert "while starting False settled True" in proc.stdout
    assert "after main True" in proc.stdout


def test_the_app_paints_the_first_page_before_the_journal_storage_opens(qtbot, tmp_path):
    """Issue 12: mirror-desktop reads its first page straight from a plain journal file (storage/first_page.py)
    and the storage layer opens after that page is shown; the list then goes on from the storage."""
    from PySide6.QtWidgets import QApplication

    from mirror_desktop.app import MirrorApp
    from mirror_desktop.core import models as m
    from mirror_desktop.paths import AppPaths
    from mirror_desktop.storage.journal import SQLiteStorage

    paths = AppPaths.resolve(tmp_path / "j")
    s = SQLiteStorage(paths.database)
    for i in range(230):
        s.reflections.create(m.Reflection(f"Evening {i}"))
    s.close()
    mirror = MirrorApp(QApplication.instance(), paths)
    mirror.start()
    try:
        assert mirror.executor.peeking
        order: list[str] = []
        mirror.window.list_model.first_page_loaded.connect(lambda n: order.append(f"page {n}"))
        mirror.executor.opened.connect(lambda _s: order.append("opened"))
        qtbot.waitUntil(lambda: mirror.window.is_open, timeout=15000)
        assert order == ["page 200", "opened"]
        model = mirror.window.list_model
        qtbot.waitUntil(lambda: (model.fetchMore(model.index(0, 0).parent()), model.rowCount())[1] == 230,
                        timeout=10000)  # the next page comes from the opened storage
    finally:
        mirror.shutdown()
