"""Templates and prompts (issue 16, item 4): a few built in, the person's own stored per journal.

A template is a name and a body of Markdown the editor (or `mirror reflect --template`) starts a
reflection with. The built-in ones ask open questions and give no advice, as the mirrorback engine
does (PRODUCT.md, "the mirrorback engine's character"). They live in code and cannot be removed; a
template of the person's own with a built-in's name takes its place until it is removed again.
Templates of the person's own live in the journal (migration 005) and travel in bundles.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import NotFoundError, ValidationError
from mirror_desktop.core.models import utc_now
from mirror_desktop.core.ports import MirrorStorage

TEMPLATE_MAX_BYTES = 64 * 1024
TEMPLATE_NAME_MAX = 80


@dataclass(frozen=True)
class TemplateInfo:
    """A template as lists show it: built-in or the person's own (``overrides_builtin`` when it replaces one)."""

    name: str
    body: str
    builtin: bool
    overrides_builtin: bool = False
    id: str | None = None  # the stored row's id (the person's own only)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "body": self.body, "builtin": self.builtin,
                "overrides_builtin": self.overrides_builtin, "id": self.id}


BUILTIN_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("evening review", (
        "## Evening review\n\n"
        "What stayed with me from today?\n\n\n"
        "Where did I feel most like myself, and where least?\n\n\n"
        "What am I carrying into tomorrow?\n\n")),
    ("gratitude", (
        "## Gratitude\n\n"
        "What am I grateful for today, however small?\n\n\n"
        "Who or what made today a little easier?\n\n\n"
        "What did I notice that I usually walk past?\n\n")),
    ("weekly review", (
        "## Weekly review\n\n"
        "What took most of my attention this week?\n\n\n"
        "What surprised me about how I spent my time?\n\n\n"
        "What keeps coming back, week after week?\n\n\n"
        "What do I want to remember about this week?\n\n")),
    ("a tension I noticed", (
        "## A tension I noticed\n\n"
        "What were the two pulls?\n\n\n"
        "When did I notice them, and where was I?\n\n\n"
        "What does each side want for me?\n\n\n"
        "What is it like to hold both for now?\n\n")),
)


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def check_name(name: str) -> str:
    clean = " ".join(unicodedata.normalize("NFC", str(name)).split())
    if not clean:
        raise ValidationError("template", "name", "cannot be empty", "A template needs a name.")
    if len(clean) > TEMPLATE_NAME_MAX:
        raise ValidationError("template", "name", f"at most {TEMPLATE_NAME_MAX} characters",
                              f"A template's name can be at most {TEMPLATE_NAME_MAX} characters; this one has {len(clean)}.")
    return clean


def check_body(body: str) -> str:
    """The body as stored; empty, over 64 KB or binary is refused with one sentence."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("template", "body", "cannot be empty",
                              "The template is empty; write the questions it should start with.")
    size = len(body.encode("utf-8"))
    if size > TEMPLATE_MAX_BYTES:
        raise ValidationError("template", "body", "at most 64 KB",
                              f"The template is {size // 1024} KB; a template can be at most 64 KB "
                              "(a page of questions, not a document).")
    if "\x00" in body:
        raise ValidationError("template", "body", "text", "The template holds binary data; save it as UTF-8 text.")
    return body


class TemplateService:
    """List, read, add, edit and remove templates (built-ins are read-only)."""

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage

    def _own(self) -> list[m.Template]:
        return list(self.storage.templates.list(order_by=["name"]))  # type: ignore[attr-defined]

    def list(self) -> list[TemplateInfo]:
        """Built-ins first (in their order, unless replaced), then the person's own by name."""
        own = {_key(t.name): t for t in self._own()}
        out: list[TemplateInfo] = []
        for name, body in BUILTIN_TEMPLATES:
            mine = own.pop(_key(name), None)
            out.append(TemplateInfo(name, body, True) if mine is None
                       else TemplateInfo(mine.name, mine.body, False, True, mine.id))
        out += [TemplateInfo(t.name, t.body, False, False, t.id)
                for t in sorted(own.values(), key=lambda t: _key(t.name))]
        return out

    def get(self, name: str) -> TemplateInfo:
        """A template by name (spaces and case aside); one sentence listing the names if there is none."""
        wanted = _key(name)
        found = next((t for t in self.list() if _key(t.name) == wanted), None)
        if found is None:
            names = ", ".join(t.name for t in self.list())
            raise NotFoundError("template", name) if not names else ValidationError(
                "template", "name", "must name a template",
                f"No template is called {name!r}; the templates are: {names}.")
        return found

    def save(self, name: str, body: str) -> TemplateInfo:
        """Add a template, or replace the body of the person's own one of that name (a built-in's name
        makes a replacement for the built-in)."""
        clean = check_name(name)
        body = check_body(body)
        repo = self.storage.templates  # type: ignore[attr-defined]
        with self.storage.transaction():
            existing = next((t for t in self._own() if _key(t.name) == _key(clean)), None)
            if existing is None:
                saved = repo.create(m.Template(name=clean, body=body))
            else:
                saved = repo.update(replace(existing, name=clean, body=body, updated_at=utc_now()))
        builtin = any(_key(n) == _key(clean) for n, _ in BUILTIN_TEMPLATES)
        return TemplateInfo(saved.name, saved.body, False, builtin, saved.id)

    def remove(self, name: str) -> TemplateInfo | None:
        """Remove the person's own template; returns the built-in that shows again, if any.

        A built-in alone cannot be removed (one sentence)."""
        wanted = _key(name)
        mine = next((t for t in self._own() if _key(t.name) == wanted), None)
        builtin = next(((n, b) for n, b in BUILTIN_TEMPLATES if _key(n) == wanted), None)
        if mine is None:
            if builtin is not None:
                raise ValidationError("template", "name", "built-in", f"{builtin[0]!r} is built in and cannot be "
                                      "removed; add your own template with another name instead.")
            self.get(name)  # raises the sentence with the names there are
            raise NotFoundError("template", name)  # pragma: no cover - get raised
        self.storage.templates.delete(mine.id)  # type: ignore[attr-defined]
        return TemplateInfo(builtin[0], builtin[1], True) if builtin is not None else None
