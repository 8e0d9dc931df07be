"""View → Evolution…: proposals by status, a change as before/after, its test results, the history timeline.

The window renders what EvolutionClient reports and sends intents back (Test, Approve, Reject, Apply,
Roll back, consent). The flow's rules and sentences are the service's (core/evolution.py): a button
is enabled only where the flow allows it, and a refusal is shown as the sentence it came with.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mirror_desktop.ui import format as fmt
from mirror_desktop.workers.base import sentence
from mirror_desktop.workers.evolution import EvolutionClient

STATUSES = ("draft", "testing", "review", "voting", "approved", "applied", "rejected")
STATUS_LABELS = {"draft": "Drafts", "testing": "Testing", "review": "In review", "voting": "Voting",
                 "approved": "Approved", "applied": "Applied", "rejected": "Rejected"}
ID_ROLE = Qt.ItemDataRole.UserRole + 1
EVENT_LABELS = {"upgrade": "Applied", "rollback": "Rolled back", "downgrade": "Went back", "fork": "Forked",
                "merge": "Merged", "hotfix": "Hotfix"}


class EvolutionDialog(QDialog):
    """The evolution loop for one journal; non-modal, built on first use."""

    def __init__(self, client: EvolutionClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Evolution")
        self.setObjectName("evolutionDialog")
        self.client = client
        self.snapshot: Any = None
        self._selected: str | None = None
        self.resize(1100, 720)

        self.version_label = QLabel()
        self.version_label.setObjectName("evolutionVersion")
        self.banner = QLabel()
        self.banner.setObjectName("evolutionBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.banner_rollback = QPushButton("Roll back")
        self.banner_rollback.hide()
        top = QHBoxLayout()
        top.addWidget(self.version_label, 1)
        top.addWidget(self.banner, 3)
        top.addWidget(self.banner_rollback)

        # proposals by status
        self.tree = QTreeWidget()
        self.tree.setObjectName("evolutionProposals")
        self.tree.setHeaderLabels(["Proposal", "Type"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setMinimumWidth(380)

        # one proposal
        self.title = QLabel()
        self.title.setObjectName("evolutionTitle")
        self.title.setWordWrap(True)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.changes = QTableWidget(0, 3)
        self.changes.setObjectName("evolutionChanges")
        self.changes.setHorizontalHeaderLabels(["Where", "Before", "After"])
        self.changes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.changes.verticalHeader().hide()
        self.changes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("evolutionSummary")
        self.results = QTableWidget(0, 5)
        self.results.setObjectName("evolutionResults")
        self.results.setHorizontalHeaderLabels(["Pattern", "Precision before", "Precision after",
                                                "Recall before", "Recall after"])
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.results.verticalHeader().hide()
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.examples = QTableWidget(0, 3)
        self.examples.setObjectName("evolutionExamples")
        self.examples.setHorizontalHeaderLabels(["Probe", "Before", "After"])
        self.examples.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.examples.verticalHeader().hide()
        self.examples.setWordWrap(True)
        self.examples.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tabs = QTabWidget()
        tabs.addTab(self.changes, "Change (before → after)")
        results_page = QWidget()
        rl = QVBoxLayout(results_page)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.summary)
        rl.addWidget(self.results, 2)
        rl.addWidget(self.examples, 1)
        tabs.addTab(results_page, "Test results")
        self.tabs = tabs

        self.test_button = QPushButton("Test")
        self.cancel_button = QPushButton("Cancel test")
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject")
        self.apply_button = QPushButton("Apply")
        self.cancel_button.hide()
        buttons = QHBoxLayout()
        for b in (self.test_button, self.cancel_button, self.approve_button, self.reject_button, self.apply_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.message = QLabel()
        self.message.setObjectName("evolutionMessage")
        self.message.setWordWrap(True)

        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.title)
        dl.addWidget(self.description)
        dl.addLayout(buttons)
        dl.addWidget(self.message)
        dl.addWidget(tabs, 1)

        # history timeline
        self.history = QTreeWidget()
        self.history.setObjectName("evolutionHistory")
        self.history.setHeaderLabels(["When", "What", "Version", "", ""])
        self.history.setRootIsDecorated(False)
        self.history.header().setStretchLastSection(False)
        self.history.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.consent = QCheckBox("Share lifecycle events (counts only, never your words)")
        self.shared_button = QPushButton("What would be shared…")
        hist = QWidget()
        hl = QVBoxLayout(hist)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(QLabel("History"))
        hl.addWidget(self.history, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.consent, 1)
        foot.addWidget(self.shared_button)
        hl.addLayout(foot)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(detail)
        right.addWidget(hist)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 720])
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(close)

        self.tree.currentItemChanged.connect(self._selection_changed)
        self.test_button.clicked.connect(self._test)
        self.cancel_button.clicked.connect(self._cancel_test)
        self.approve_button.clicked.connect(lambda: self._act(self.client.approve))
        self.reject_button.clicked.connect(lambda: self._act(self.client.reject))
        self.apply_button.clicked.connect(lambda: self._act(self.client.apply))
        self.banner_rollback.clicked.connect(self._rollback_newest)
        self.consent.toggled.connect(self._consent_toggled)
        self.shared_button.clicked.connect(self._show_shared)
        client.changed.connect(self.reload)
        client.regression_found.connect(self.show_regression)
        self._show_proposal(None)
        self.reload()
        client.check_regression()

    # -- loading ------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.client.load(self._loaded, self._failed)

    def _loaded(self, snap: Any) -> None:
        self.snapshot = snap
        self.version_label.setText(f"Engine configuration <b>{snap.version}</b>")
        self.consent.blockSignals(True)
        self.consent.setChecked(bool(snap.consent))
        self.consent.blockSignals(False)
        self.tree.clear()
        chosen = None
        for status in STATUSES:
            rows = [p for p in snap.proposals if str(p.status) == status]
            if not rows:
                continue
            group = QTreeWidgetItem([f"{STATUS_LABELS[status]} ({len(rows)})", ""])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(group)
            for p in sorted(rows, key=lambda p: p.created_at, reverse=True):
                item = QTreeWidgetItem([p.title, str(p.proposal_type).replace("_", " ")])
                item.setData(0, ID_ROLE, p.id)
                item.setToolTip(0, p.description)
                group.addChild(item)
                if p.id == self._selected:
                    chosen = item
            group.setExpanded(True)
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        else:
            self._show_proposal(None)
        self._fill_history(snap)

    def _fill_history(self, snap: Any) -> None:
        self.history.clear()
        titles = {p.id: p.title for p in snap.proposals}
        newest_live = snap.live[-1] if snap.live else None
        for h in reversed(snap.history):
            what = EVENT_LABELS.get(str(h.event_type), str(h.event_type))
            what += f": {titles.get(h.evolution_id, (h.metadata or {}).get('fork_name') or h.evolution_id)}"
            item = QTreeWidgetItem([fmt.short_date(h.applied_at), what,
                                    f"{h.from_version or '–'} → {h.to_version or '–'}",
                                    "in effect" if h.id in snap.live else "", ""])
            self.history.addTopLevelItem(item)
            if h.reversible and h.id == newest_live:
                button = QPushButton("Roll back")
                button.setObjectName("historyRollback")
                button.clicked.connect(self._rollback_newest)
                self.history.setItemWidget(item, 4, button)
            elif h.reversible and h.id in snap.live:
                button = QPushButton(f"Go back to {h.from_version}")
                version = str(h.from_version)
                button.clicked.connect(lambda _=False, v=version: self.client.rollback(v, on_error=self._failed))
                self.history.setItemWidget(item, 4, button)
        for col in (0, 2, 3, 4):
            self.history.resizeColumnToContents(col)

    # -- one proposal ---------------------------------------------------------------------------------
    def _proposal(self, pid: str | None) -> Any:
        if self.snapshot is None or pid is None:
            return None
        return next((p for p in self.snapshot.proposals if p.id == pid), None)

    def _selection_changed(self, current: QTreeWidgetItem | None, _prev: Any = None) -> None:
        pid = current.data(0, ID_ROLE) if current is not None else None
        if pid is None:
            return
        self._selected = pid
        self.message.clear()
        self._show_proposal(self._proposal(pid))

    def _show_proposal(self, p: Any) -> None:
        status = str(p.status) if p is not None else ""
        self.title.setText(f"<b>{p.title}</b> · {STATUS_LABELS.get(status, status)}" if p else
                           "Choose a proposal. Repeated flags on mirrorbacks draft new ones here.")
        self.description.setText(p.description if p else "")
        self.test_button.setEnabled(status in ("draft", "testing", "review"))
        self.approve_button.setEnabled(status in ("review", "voting"))
        self.reject_button.setEnabled(status in ("testing", "review", "voting"))
        self.apply_button.setEnabled(status == "approved")
        self.changes.setRowCount(0)
        self._show_results(p.test_results if p is not None else None)
        if p is not None:
            self.client.diff(p, self._show_diff)

    def _show_diff(self, rows: list[tuple[str, str, str]]) -> None:
        self.changes.setRowCount(len(rows))
        for r, (where, before, after) in enumerate(rows):
            for c, text in enumerate((where, before, after)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.changes.setItem(r, c, cell)
        self.changes.resizeRowsToContents()

    def _show_results(self, tr: dict[str, Any] | None) -> None:
        self.results.setRowCount(0)
        self.examples.setRowCount(0)
        if not tr:
            self.summary.setText("Not tested yet. Test runs the change on the probe set and your last 200 "
                                 "reflections, here on this computer.")
            return
        ck, ds, j = tr.get("checker", {}), tr.get("directive_scores", {}), tr.get("journal", {})
        self.summary.setText(
            f"{tr.get('config_version_before')} → {tr.get('config_version_after')}. Checker catch rate on advice: "
            f"{ck.get('catch_rate_before')} → {ck.get('catch_rate_after')} (advice through: "
            f"{ck.get('advice_through_after')}). Mean directive score: {ds.get('mean_before')} → {ds.get('mean_after')}. "
            f"Of your last {j.get('mirrorbacks_considered')} mirrorbacks, {j.get('would_change')} would change.")
        patterns = tr.get("patterns") or {}
        self.results.setRowCount(len(patterns))
        for r, (name, pr) in enumerate(patterns.items()):
            b, a = pr["before"], pr["after"]
            for c, text in enumerate((name.replace("_", " "), b["precision"], a["precision"], b["recall"], a["recall"])):
                cell = QTableWidgetItem(str(text))
                if c and pr["before"] != pr["after"]:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                self.results.setItem(r, c, cell)
        examples = tr.get("examples") or []
        self.examples.setRowCount(len(examples))
        for r, ex in enumerate(examples):
            for c, key in enumerate(("text", "before", "after")):
                cell = QTableWidgetItem(str(ex.get(key, "")))
                cell.setToolTip(str(ex.get(key, "")))
                self.examples.setItem(r, c, cell)
        self.examples.resizeRowsToContents()

    # -- intents -------------------------------------------------------------------------------------------
    def _act(self, action: Any) -> None:
        if self._selected is None:
            return
        self.message.clear()
        action(self._selected, on_error=self._failed)

    def _test(self) -> None:
        if self._selected is None:
            return
        self.message.setText("Testing in a sandbox on this computer…")
        self.test_button.setEnabled(False)
        self.cancel_button.show()

        def done(p: Any) -> None:
            self.cancel_button.hide()
            self.message.setText("Tested; the results are below.")
            self.tabs.setCurrentIndex(1)

        def failed(exc: BaseException) -> None:
            self.cancel_button.hide()
            self._failed(exc)

        self.client.test(self._selected, done, failed)

    def _cancel_test(self) -> None:
        self.client.cancel_test()
        self.cancel_button.hide()
        self.message.setText("Test cancelled; nothing was saved.")
        self._show_proposal(self._proposal(self._selected))

    def _rollback_newest(self) -> None:
        self.banner.hide()
        self.banner_rollback.hide()
        self.client.rollback(None, on_error=self._failed)

    def show_regression(self, finding: Any) -> None:
        """After an apply, the next mirrorbacks did worse: say so and offer the rollback."""
        before, after = finding.before, finding.after
        what = ("were flagged as directive more often" if finding.reason == "directive_threshold_exceeded"
                else "were rated lower")
        self.banner.setText(f"Since {finding.version}, mirrorbacks {what} (directive {before['directive_rate']} → "
                            f"{after['directive_rate']}, rating {before['rating']} → {after['rating']}).")
        self.banner.show()
        self.banner_rollback.show()

    def _consent_toggled(self, on: bool) -> None:
        self.client.set_consent(on)

    def _show_shared(self) -> None:
        self.client.shared_summary(self._shared_loaded)

    def _shared_loaded(self, summary: dict[str, Any]) -> None:
        box = QDialog(self)
        box.setWindowTitle("What would be shared")
        text = QPlainTextEdit(json.dumps(summary, indent=2, ensure_ascii=False))
        text.setReadOnly(True)
        note = QLabel("Only rows you marked shareable, as counts and names; never your words.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(box.reject)
        lay = QVBoxLayout(box)
        lay.addWidget(note)
        lay.addWidget(text, 1)
        lay.addWidget(buttons)
        box.resize(480, 520)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(sentence(exc))
        self._show_proposal_buttons()

    def _show_proposal_buttons(self) -> None:
        p = self._proposal(self._selected)
        if p is not None:
            status = str(p.status)
            self.test_button.setEnabled(status in ("draft", "testing", "review"))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.client.cancel_test()
        super().closeEvent(event)
