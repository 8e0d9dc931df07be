"""The spec's Validation Rules, checked in the core before anything reaches a database.

The migrations enforce the same rules with CHECK constraints and triggers; checking here as well
lets every error name the field and the rule in words a person can act on.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from collections.abc import Callable

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import (
    EngineMode,
    HistoryEventType,
    IntegrationStatus,
    IntegrationType,
    LifecycleEventType,
    PROPOSAL_TRANSITIONS,
    ContentType,
    ProposalStatus,
    ProposalType,
    Source,
    SyncMode,
    TensionOrigin,
    ThreadStatus,
    Visibility,
)
from mirror_desktop.core.errors import ValidationError

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
PATTERN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
UUID_OR_TEXT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
TENSION_NAME_MAX = 100
MAX_JSON_DEPTH = 32


def _enum(entity: str, fld: str, value: Any, enum: type[StrEnum], required: bool = True) -> None:
    if value is None and not required:
        return
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise ValidationError(
            entity, fld, "must be one of " + ", ".join(allowed),
            f"{entity}.{fld} must be one of {', '.join(allowed)} (got {value!r}).",
        )


def _id(entity: str, fld: str, value: Any, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not UUID_OR_TEXT.match(value):
        raise ValidationError(entity, fld, "must be a UUID or unique text id",
                              f"{entity}.{fld} must be a UUID or short unique text (got {value!r}).")


def _timestamp(entity: str, fld: str, value: Any, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(entity, fld, "must be an ISO 8601 timestamp with a time zone")


def _text(entity: str, fld: str, value: Any, required: bool = True, max_len: int | None = None) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(entity, fld, "cannot be empty", f"{entity}.{fld} cannot be empty.")
    if max_len is not None and len(value) > max_len:
        raise ValidationError(entity, fld, f"must be at most {max_len} characters",
                              f"{entity}.{fld} must be at most {max_len} characters (it has {len(value)}).")


def _json_depth(value: Any, depth: int = 0) -> int:
    if depth > MAX_JSON_DEPTH:
        return depth
    if isinstance(value, dict):
        return max([_json_depth(v, depth + 1) for v in value.values()] or [depth + 1])
    if isinstance(value, list):
        return max([_json_depth(v, depth + 1) for v in value] or [depth + 1])
    return depth


def check_json(entity: str, fld: str, value: Any, kind: type | None = None, required: bool = False) -> None:
    """JSON fields must serialise to strict JSON (no NaN), not nest absurdly, and have ``kind``."""
    if value is None:
        if required:
            raise ValidationError(entity, fld, "is required")
        return
    if kind is not None and not isinstance(value, kind):
        raise ValidationError(entity, fld, f"must be a JSON {'object' if kind is dict else 'array'}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(entity, fld, "must be valid JSON", f"{entity}.{fld} must be valid JSON ({exc}).") from None
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise ValidationError(entity, fld, f"must nest at most {MAX_JSON_DEPTH} levels")


def _range(entity: str, fld: str, value: Any, lo: float, hi: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not lo <= value <= hi:
        raise ValidationError(entity, fld, f"must be between {lo} and {hi}",
                              f"{entity}.{fld} must be between {lo} and {hi} (got {value!r}).")


def _semver(entity: str, fld: str, value: Any, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not SEMVER.match(value):
        raise ValidationError(entity, fld, "must be a version in MAJOR.MINOR.PATCH form",
                              f"{entity}.{fld} must be a version in MAJOR.MINOR.PATCH form, like 1.2.0 (got {value!r}).")


def _bool(entity: str, fld: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(entity, fld, "must be true or false")


def validate_identity(x: m.Identity) -> None:
    _id("identity", "id", x.id)
    _timestamp("identity", "created_at", x.created_at)
    _timestamp("identity", "updated_at", x.updated_at)
    check_json("identity", "metadata", x.metadata, dict)


def validate_reflection(x: m.Reflection) -> None:
    e = "reflection"
    _id(e, "id", x.id)
    _id(e, "identity_id", x.identity_id, required=False)
    _text(e, "content", x.content)
    _enum(e, "visibility", x.visibility, Visibility)
    if x.identity_id is None and x.visibility != Visibility.LOCAL_ONLY:
        raise ValidationError(e, "visibility", "must be local_only when anonymous",
                              "An anonymous reflection must stay local_only; choose an identity to share it.")
    _enum(e, "content_type", x.content_type, ContentType, required=False)
    _enum(e, "source", x.source, Source, required=False)
    _timestamp(e, "created_at", x.created_at)
    check_json(e, "metadata", x.metadata, dict)
    tags = (x.metadata or {}).get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise ValidationError(e, "metadata.tags", "must be a list of strings")


def validate_mirrorback(x: m.Mirrorback) -> None:
    e = "mirrorback"
    _id(e, "id", x.id)
    _id(e, "reflection_id", x.reflection_id)
    _text(e, "content", x.content)
    _text(e, "engine_version", x.engine_version)
    _timestamp(e, "created_at", x.created_at)
    check_json(e, "metadata", x.metadata, dict)


def validate_thread(x: m.Thread) -> None:
    e = "thread"
    _id(e, "id", x.id)
    _id(e, "identity_id", x.identity_id, required=False)
    _enum(e, "status", x.status, ThreadStatus)
    _timestamp(e, "started_at", x.started_at)
    _timestamp(e, "last_active", x.last_active)
    check_json(e, "metadata", x.metadata, dict)


def validate_thread_reflection(x: m.ThreadReflection) -> None:
    e = "thread_reflection"
    _id(e, "thread_id", x.thread_id)
    _id(e, "reflection_id", x.reflection_id)
    if isinstance(x.position, bool) or not isinstance(x.position, int) or x.position < 0:
        raise ValidationError(e, "position", "must be a whole number of at least 0")
    _timestamp(e, "added_at", x.added_at)


def validate_tension(x: m.Tension) -> None:
    e = "tension"
    _id(e, "id", x.id)
    _id(e, "identity_id", x.identity_id, required=False)
    _text(e, "name", x.name, max_len=TENSION_NAME_MAX)
    _text(e, "axis_a", x.axis_a)
    _text(e, "axis_b", x.axis_b)
    _range(e, "position", x.position, -1.0, 1.0)
    _range(e, "intensity", x.intensity, 0.0, 1.0)
    _enum(e, "origin", x.origin, TensionOrigin)
    _enum(e, "sync_mode", x.sync_mode, SyncMode)
    _timestamp(e, "created_at", x.created_at)
    _timestamp(e, "updated_at", x.updated_at)
    check_json(e, "metadata", x.metadata, dict)


def validate_axis(x: m.Axis) -> None:
    e = "axis"
    _id(e, "id", x.id)
    _id(e, "identity_id", x.identity_id, required=False)
    _text(e, "name", x.name)
    _timestamp(e, "created_at", x.created_at)
    check_json(e, "metadata", x.metadata, dict)


def validate_engine_run(x: m.EngineRun) -> None:
    e = "engine_run"
    _id(e, "id", x.id)
    _id(e, "reflection_id", x.reflection_id, required=False)
    _semver(e, "config_version", x.config_version)
    _enum(e, "engine_mode", x.engine_mode, EngineMode)
    check_json(e, "patterns", x.patterns, list)
    check_json(e, "tensions_surfaced", x.tensions_surfaced, list)
    check_json(e, "flags", x.flags, dict)
    if x.duration_ms is not None and (isinstance(x.duration_ms, bool) or not isinstance(x.duration_ms, int) or x.duration_ms <= 0):
        raise ValidationError(e, "duration_ms", "must be positive",
                              f"engine_run.duration_ms must be a positive number of milliseconds (got {x.duration_ms!r}).")
    if x.mirrorback_length is not None and (not isinstance(x.mirrorback_length, int) or x.mirrorback_length < 0):
        raise ValidationError(e, "mirrorback_length", "must be a count of at least 0")
    _bool(e, "sync_allowed", x.sync_allowed)
    if x.sync_allowed:
        # Spec 8: a run that may leave the device carries pattern names only, nothing identifiable.
        for p in x.patterns or []:
            if not isinstance(p, str) or not PATTERN_NAME.match(p):
                raise ValidationError(e, "patterns", "must hold only anonymised pattern names when sync_allowed")
    _timestamp(e, "timestamp", x.timestamp)


def validate_engine_feedback(x: m.EngineFeedback) -> None:
    e = "engine_feedback"
    _id(e, "id", x.id)
    _id(e, "engine_run_id", x.engine_run_id)
    if x.rating is not None and (isinstance(x.rating, bool) or not isinstance(x.rating, int) or not 1 <= x.rating <= 5):
        raise ValidationError(e, "rating", "must be 1-5", f"engine_feedback.rating must be a whole number from 1 to 5 (got {x.rating!r}).")
    check_json(e, "flags", x.flags, list)
    if x.rating is None and not x.flags and not (x.notes and x.notes.strip()):
        raise ValidationError(e, "rating", "or flags or notes must be provided",
                              "Feedback needs a rating, a flag or a note; add at least one.")
    _bool(e, "sync_allowed", x.sync_allowed)
    _timestamp(e, "timestamp", x.timestamp)


def validate_proposal(x: m.EvolutionProposal) -> None:
    e = "evolution_proposal"
    _id(e, "id", x.id)
    _enum(e, "proposal_type", x.proposal_type, ProposalType)
    _enum(e, "status", x.status, ProposalStatus)
    _semver(e, "from_version", x.from_version, required=False)
    _semver(e, "to_version", x.to_version, required=False)
    _text(e, "title", x.title)
    _text(e, "description", x.description)
    check_json(e, "changes", x.changes, dict, required=True)
    for f in ("evidence", "test_results", "vote_results", "metadata"):
        check_json(e, f, getattr(x, f), dict)
    _timestamp(e, "created_at", x.created_at)
    _timestamp(e, "approved_at", x.approved_at, required=False)
    _timestamp(e, "applied_at", x.applied_at, required=False)


def check_proposal_transition(old: str, new: str) -> None:
    """Spec 10: status changes only along draft → testing → review → voting → approved → applied."""
    if old == new:
        return
    if ProposalStatus(new) not in PROPOSAL_TRANSITIONS[ProposalStatus(old)]:
        allowed = ", ".join(sorted(s.value for s in PROPOSAL_TRANSITIONS[ProposalStatus(old)])) or "nothing"
        raise ValidationError("evolution_proposal", "status", "must follow the proposal flow",
                              f"A proposal cannot move from {old} to {new}; from {old} it can go to {allowed}.")


def validate_history(x: m.EvolutionHistory) -> None:
    e = "evolution_history"
    _id(e, "id", x.id)
    _text(e, "evolution_id", x.evolution_id)
    _enum(e, "event_type", x.event_type, HistoryEventType)
    _bool(e, "reversible", x.reversible)
    _timestamp(e, "applied_at", x.applied_at)
    check_json(e, "metadata", x.metadata, dict)


def validate_event(x: m.EvolutionEvent) -> None:
    e = "evolution_event"
    _id(e, "id", x.id)
    _enum(e, "event_type", x.event_type, LifecycleEventType)
    check_json(e, "event_data", x.event_data, dict, required=True)
    _bool(e, "sync_allowed", x.sync_allowed)
    _timestamp(e, "timestamp", x.timestamp)


def validate_integration(x: m.Integration) -> None:
    e = "integration"
    _id(e, "id", x.id)
    _id(e, "identity_id", x.identity_id, required=False)
    _enum(e, "integration_type", x.integration_type, IntegrationType)
    _enum(e, "status", x.status, IntegrationStatus)
    check_json(e, "config", x.config, dict, required=True)
    # Spec 13: config must hold the provider-specific fields; every provider names itself.
    if not isinstance(x.config.get("provider"), str) or not x.config["provider"].strip():
        raise ValidationError(e, "config.provider", "is required",
                              "integration.config needs a \"provider\" naming the connected service.")
    check_json(e, "metadata", x.metadata, dict)
    _timestamp(e, "connected_at", x.connected_at)
    _timestamp(e, "last_sync", x.last_sync, required=False)


ITEM_KINDS = ("event", "note")
ITEM_STATES = ("present", "deleted_upstream")
EXTERNAL_ID_MAX = 1024


def validate_integration_item(x: m.IntegrationItem) -> None:
    e = "integration_item"
    _id(e, "integration_id", x.integration_id)
    if not isinstance(x.external_id, str) or not 1 <= len(x.external_id) <= EXTERNAL_ID_MAX:
        raise ValidationError(e, "external_id", f"must be 1 to {EXTERNAL_ID_MAX} characters")
    if x.kind not in ITEM_KINDS:
        raise ValidationError(e, "kind", "must be one of " + ", ".join(ITEM_KINDS))
    if x.state not in ITEM_STATES:
        raise ValidationError(e, "state", "must be one of " + ", ".join(ITEM_STATES))
    if not isinstance(x.version, str):
        raise ValidationError(e, "version", "must be text")
    _timestamp(e, "starts_at", x.starts_at, required=False)
    _timestamp(e, "ends_at", x.ends_at, required=False)
    if x.starts_at is not None and x.ends_at is not None and x.ends_at < x.starts_at:
        raise ValidationError(e, "ends_at", "cannot be before starts_at")
    _bool(e, "all_day", x.all_day)
    _id(e, "reflection_id", x.reflection_id, required=False)
    check_json(e, "metadata", x.metadata, dict)
    _timestamp(e, "first_seen_at", x.first_seen_at)
    _timestamp(e, "updated_at", x.updated_at)


def validate_draft(x: m.Draft) -> None:
    _id("draft", "id", x.id)
    _id("draft", "reflection_id", x.reflection_id, required=False)
    _id("draft", "identity_id", x.identity_id, required=False)
    if not isinstance(x.content, str):
        raise ValidationError("draft", "content", "must be text")
    check_json("draft", "metadata", x.metadata, dict)
    _timestamp("draft", "updated_at", x.updated_at)


ATTACHMENT_FILENAME_MAX = 255


def validate_attachment(x: m.Attachment) -> None:
    e = "attachment"
    _id(e, "id", x.id)
    _id(e, "reflection_id", x.reflection_id)
    if not isinstance(x.sha256, str) or len(x.sha256) != 64 or any(c not in "0123456789abcdef" for c in x.sha256):
        raise ValidationError(e, "sha256", "must be 64 lower-case hex digits")
    if not isinstance(x.mime_type, str) or "/" not in x.mime_type or not 3 <= len(x.mime_type) <= 100:
        raise ValidationError(e, "mime_type", "must be a media type like image/png")
    if isinstance(x.size_bytes, bool) or not isinstance(x.size_bytes, int) or x.size_bytes <= 0:
        raise ValidationError(e, "size_bytes", "must be a positive number of bytes")
    if x.filename is not None and (not isinstance(x.filename, str) or not 1 <= len(x.filename) <= ATTACHMENT_FILENAME_MAX):
        raise ValidationError(e, "filename", f"must be 1 to {ATTACHMENT_FILENAME_MAX} characters")
    check_json(e, "metadata", x.metadata, dict)
    _timestamp(e, "created_at", x.created_at)


def validate_template(x: m.Template) -> None:
    e = "template"
    _id(e, "id", x.id)
    _text(e, "name", x.name, max_len=80)
    _text(e, "body", x.body)
    if len(x.body.encode("utf-8")) > 64 * 1024:
        raise ValidationError(e, "body", "at most 64 KB", "A template can be at most 64 KB.")
    _timestamp(e, "created_at", x.created_at)
    _timestamp(e, "updated_at", x.updated_at)
    check_json(e, "metadata", x.metadata, dict)


VALIDATORS: dict[type, Callable[[Any], None]] = {
    m.Attachment: validate_attachment,
    m.Template: validate_template,
    m.Draft: validate_draft,
    m.Identity: validate_identity,
    m.Reflection: validate_reflection,
    m.Mirrorback: validate_mirrorback,
    m.Thread: validate_thread,
    m.ThreadReflection: validate_thread_reflection,
    m.Tension: validate_tension,
    m.Axis: validate_axis,
    m.EngineRun: validate_engine_run,
    m.EngineFeedback: validate_engine_feedback,
    m.EvolutionProposal: validate_proposal,
    m.EvolutionHistory: validate_history,
    m.EvolutionEvent: validate_event,
    m.Integration: validate_integration,
    m.IntegrationItem: validate_integration_item,
}


def validate(entity: object) -> None:
    """Check ``entity`` against the spec's rules; raises ValidationError naming field and rule."""
    VALIDATORS[type(entity)](entity)

# The shortest passphrase Mirror accepts for what it encrypts, from any source (prompt, file, environment,
# the window): issue 11 found the rule applied only at the prompt.
MIN_PASSPHRASE_LENGTH = 8
