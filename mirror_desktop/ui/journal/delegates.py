"""Item delegates: how a reflection row, a timeline entry and a search hit are painted.

Painting reads only what the model already holds (no database, no text scanning), so scrolling a
long journal stays smooth.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from mirror_desktop.ui import format as fmt
from mirror_desktop.ui.journal.models import reflection_list as rl
from mirror_desktop.ui.journal.models import search_results as sr
from mirror_desktop.ui.journal.models import threads as th

Index = QModelIndex | QPersistentModelIndex
PAD_X = 16


def _muted(option: QStyleOptionViewItem, selected: bool = False) -> QColor:
    return option.palette.color(QPalette.ColorRole.PlaceholderText)


def _background(painter: QPainter, option: QStyleOptionViewItem, index: Index, separator: bool = True) -> bool:
    """A soft tint for the selected row (text keeps its colour), a hover tint, a hairline separator."""
    pal = option.palette
    r = option.rect
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    if selected:
        tint = QColor(pal.color(QPalette.ColorRole.Highlight))
        tint.setAlphaF(0.16)
        painter.fillRect(r, tint)
        painter.fillRect(QRect(r.left(), r.top(), 3, r.height()), pal.color(QPalette.ColorRole.Highlight))
    elif option.state & QStyle.StateFlag.State_MouseOver:
        painter.fillRect(r, pal.color(QPalette.ColorRole.AlternateBase))
    if separator:
        line = QColor(pal.color(QPalette.ColorRole.Mid))
        line.setAlphaF(0.45)
        painter.fillRect(QRect(r.left(), r.bottom(), r.width(), 1), line)
    return selected


def _small(font: QFont) -> QFont:
    f = QFont(font)
    f.setPointSizeF(max(font.pointSizeF() * 0.88, 7.0))
    return f


class ReflectionDelegate(QStyledItemDelegate):
    """Two lines: the first line in the person's words; the date, word count, tags and visibility below."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 2 + 22)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        selected = _background(painter, option, index)
        r = option.rect.adjusted(PAD_X, 8, -PAD_X, -8)
        pal = option.palette
        fg = pal.color(QPalette.ColorRole.Text)
        title_font = QFont(option.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        fm = QFontMetrics(title_font)
        painter.setFont(title_font)
        painter.setPen(fg)
        title = fm.elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideRight, r.width())
        painter.drawText(QRect(r.left(), r.top(), r.width(), fm.height()), Qt.AlignmentFlag.AlignLeft, title)

        small = _small(option.font)
        sfm = QFontMetrics(small)
        painter.setFont(small)
        y = r.top() + fm.height() + 4
        when = index.data(rl.DateRole)
        words = index.data(rl.WordsRole) or 0
        meta = fmt.row_meta(fmt.short_date(when) if when else "", int(words), index.data(rl.TagsRole) or ())
        badge = fmt.VISIBILITY_BADGES.get(index.data(rl.VisibilityRole) or "", "")
        bw = sfm.horizontalAdvance(badge) + 12 if badge else 0
        painter.setPen(_muted(option, selected))
        painter.drawText(QRect(r.left(), y, r.width() - bw - 8, sfm.height()), Qt.AlignmentFlag.AlignLeft,
                         sfm.elidedText(meta, Qt.TextElideMode.ElideRight, r.width() - bw - 8))
        if badge:
            box = QRectF(r.right() - bw, y - 1, bw, sfm.height() + 2)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            c = _muted(option, selected)
            c.setAlphaF(0.5)
            painter.setPen(c)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, 6, 6)
            painter.setPen(_muted(option, selected))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, badge)
        painter.restore()


class TimelineDelegate(QStyledItemDelegate):
    """A vertical line with a dot per reflection; the gap to the previous one written beside it."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        extra = QFontMetrics(_small(option.font)).height() + 3 if index.data(th.DayItemsRole) else 0
        return QSize(200, fm.height() * 3 + 26 + extra)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        selected = _background(painter, option, index, separator=False)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = option.palette
        r = option.rect
        line_x = r.left() + 28
        muted = _muted(option, selected)
        line = QColor(pal.color(QPalette.ColorRole.Mid))
        painter.setPen(line)
        first = index.row() == 0
        last = index.row() == index.model().rowCount() - 1
        painter.drawLine(line_x, r.top() if not first else r.center().y(), line_x,
                         r.bottom() if not last else r.center().y())
        painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(line_x - 5, r.center().y() - 5, 10, 10)

        x = line_x + 20
        w = r.right() - x - PAD_X
        small = _small(option.font)
        sfm = QFontMetrics(small)
        fm = QFontMetrics(option.font)
        gap = index.data(th.GapRole) or ""
        y = r.top() + 8
        painter.setFont(small)
        painter.setPen(muted)
        painter.drawText(QRect(x, y, w, sfm.height()), Qt.AlignmentFlag.AlignLeft, gap if gap else "Start of the thread")
        y += sfm.height() + 3
        title_font = QFont(option.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        title = QFontMetrics(title_font).elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideRight, w)
        painter.drawText(QRect(x, y, w, fm.height()), Qt.AlignmentFlag.AlignLeft, title)
        y += fm.height() + 3
        when = index.data(th.DateRole)
        painter.setFont(small)
        painter.setPen(muted)
        words = int(index.data(th.WordsRole) or 0)
        painter.drawText(QRect(x, y, w, sfm.height()), Qt.AlignmentFlag.AlignLeft,
                         f"{fmt.long_date(when) if when else ''}  ·  {fmt.plural(words, 'word')}")
        day_items = index.data(th.DayItemsRole) or ""
        if day_items:  # that day's calendar, under its reflection (issue 14)
            y += sfm.height() + 3
            painter.drawText(QRect(x, y, w, sfm.height()), Qt.AlignmentFlag.AlignLeft,
                             sfm.elidedText(f"Calendar: {day_items}", Qt.TextElideMode.ElideRight, w))
        painter.restore()


class SearchHitDelegate(QStyledItemDelegate):
    """Title and date, then the snippet with matches in bold (escaped HTML, see format.snippet_html)."""

    def _doc(self, option: QStyleOptionViewItem, index: Index, width: int, color: QColor) -> QTextDocument:
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(option.font)
        doc.setDefaultStyleSheet(f"body {{ color: {color.name()}; }}")
        doc.setHtml(f"<body>{index.data(sr.SnippetHtmlRole) or ''}</body>")
        doc.setTextWidth(width)
        return doc

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 4 + 26)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        selected = _background(painter, option, index)
        pal = option.palette
        r = option.rect.adjusted(PAD_X, 8, -PAD_X, -8)
        fg = pal.color(QPalette.ColorRole.Text)
        title_font = QFont(option.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        tfm = QFontMetrics(title_font)
        small = _small(option.font)
        sfm = QFontMetrics(small)
        when = index.data(sr.DateRole)
        date = fmt.short_date(when) if when else ""
        dw = sfm.horizontalAdvance(date) + 8
        painter.setFont(title_font)
        painter.setPen(fg)
        painter.drawText(QRect(r.left(), r.top(), r.width() - dw, tfm.height()), Qt.AlignmentFlag.AlignLeft,
                         tfm.elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideRight, r.width() - dw))
        painter.setFont(small)
        painter.setPen(_muted(option, selected))
        painter.drawText(QRect(r.right() - dw, r.top(), dw, tfm.height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, date)
        body = QRect(r.left(), r.top() + tfm.height() + 4, r.width(), r.height() - tfm.height() - 4)
        doc = self._doc(option, index, body.width(), _muted(option))
        painter.translate(body.topLeft())
        painter.setClipRect(QRect(0, 0, body.width(), body.height()))
        doc.drawContents(painter)
        painter.restore()
