"""The spec's enumerations, one place for every allowed value (spec sections 2-13)."""

from __future__ import annotations

from enum import StrEnum


class Visibility(StrEnum):
    """Reflection sync permission (spec 2). Default local_only."""

    LOCAL_ONLY = "local_only"
    SYNC_SUMMARY = "sync_summary"
    SYNC_FULL_PRIVATE = "sync_full_private"
    SYNC_FULL_PUBLIC = "sync_full_public"


class ContentType(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    AUDIO_TRANSCRIPT = "audio_transcript"


class Source(StrEnum):
    DIRECT = "direct"
    IMPORT = "import"
    INTEGRATION = "integration"


class ThreadStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class TensionOrigin(StrEnum):
    SYSTEM_SEED = "system_seed"
    LLM_SUGGESTED = "llm_suggested"
    USER_CREATED = "user_created"


class SyncMode(StrEnum):
    """Tension sharing permission (spec 6)."""

    LOCAL_ONLY = "local_only"
    SHARE_ANONYMIZED = "share_anonymized"
    SHARE_FULL = "share_full"


class EngineMode(StrEnum):
    LOCAL_LLM = "local_llm"
    REMOTE_LLM = "remote_llm"
    MANUAL = "manual"


class ProposalType(StrEnum):
    PROMPT_ADJUSTMENT = "prompt_adjustment"
    PATTERN_DETECTION = "pattern_detection"
    TENSION_HEURISTIC = "tension_heuristic"
    CONSTITUTIONAL_AMENDMENT = "constitutional_amendment"
    SAFETY_REFINEMENT = "safety_refinement"
    PERFORMANCE_OPTIMIZATION = "performance_optimization"


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    TESTING = "testing"
    REVIEW = "review"
    VOTING = "voting"
    APPROVED = "approved"
    APPLIED = "applied"
    REJECTED = "rejected"


# Spec 10: "status transitions must follow valid flow". The flow is draft -> testing -> review ->
# voting -> approved -> applied; rejected is reachable from testing, review and voting. The same
# table is enforced by triggers in both migration dialects.
PROPOSAL_TRANSITIONS: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    ProposalStatus.DRAFT: frozenset({ProposalStatus.TESTING}),
    ProposalStatus.TESTING: frozenset({ProposalStatus.REVIEW, ProposalStatus.REJECTED}),
    ProposalStatus.REVIEW: frozenset({ProposalStatus.VOTING, ProposalStatus.REJECTED}),
    ProposalStatus.VOTING: frozenset({ProposalStatus.APPROVED, ProposalStatus.REJECTED}),
    ProposalStatus.APPROVED: frozenset({ProposalStatus.APPLIED}),
    ProposalStatus.APPLIED: frozenset(),
    ProposalStatus.REJECTED: frozenset(),
}


class HistoryEventType(StrEnum):
    """evolution_history.event_type (spec 11)."""

    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    FORK = "fork"
    ROLLBACK = "rollback"
    MERGE = "merge"
    HOTFIX = "hotfix"


class LifecycleEventType(StrEnum):
    """evolution_events.event_type (spec 12)."""

    INSTALLATION = "installation"
    DELETION = "deletion"
    FORK = "fork"
    REGRESSION = "regression"
    INTEGRATION_ADD = "integration_add"
    INTEGRATION_REMOVE = "integration_remove"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    CONFIG_CHANGE = "config_change"
    EXPORT = "export"
    IMPORT = "import"


class IntegrationType(StrEnum):
    CALENDAR = "calendar"
    NOTES = "notes"
    EMAIL = "email"
    HEALTH = "health"
    JOURNAL = "journal"
    TASKS = "tasks"
    MUSIC = "music"
    LOCATION = "location"
    CUSTOM = "custom"


class IntegrationStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DISCONNECTED = "disconnected"
    ERROR = "error"


# The flags a person can put on a mirrorback (engine_feedback.flags); the CLI lists them without loading the engine.
FEEDBACK_FLAGS = (
    "too_directive", "missed_tension", "too_generic", "over_explained", "felt_judged",
    "unhelpful", "too_long", "too_short", "off_topic", "actually_helpful",
)
