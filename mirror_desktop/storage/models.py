"""One peewee model per spec table, built per database so SQLite and PostgreSQL can live side by side.

peewee objects never leave storage/: repositories turn them into core dataclasses. The models only
describe columns; the migrations own the schema (constraints, triggers, indexes), so models are
never used to create tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import peewee

from mirror_desktop.storage.timestamps import format_sqlite_timestamp, parse_timestamp

__all__ = ["ModelSet", "build_models", "format_sqlite_timestamp", "parse_timestamp"]


class SqliteTimestampField(peewee.Field):
    field_type = "TEXT"

    def db_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return format_sqlite_timestamp(value)

    def python_value(self, value: Any) -> Any:
        return parse_timestamp(value)


class PgTimestampField(peewee.Field):
    field_type = "TIMESTAMPTZ"

    def python_value(self, value: Any) -> Any:
        return parse_timestamp(value)


class SqliteJSONField(peewee.Field):
    field_type = "TEXT"

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


class PgJSONField(peewee.Field):
    field_type = "JSONB"

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        from psycopg.types.json import Jsonb

        return Jsonb(value, dumps=lambda v: json.dumps(v, ensure_ascii=False, allow_nan=False))

    def python_value(self, value: Any) -> Any:
        if isinstance(value, (str, bytes)):
            return json.loads(value)
        return value


@dataclass(frozen=True)
class ModelSet:
    """The 14 model classes bound to one database."""

    Identity: type[peewee.Model]
    Reflection: type[peewee.Model]
    Mirrorback: type[peewee.Model]
    Thread: type[peewee.Model]
    ThreadReflection: type[peewee.Model]
    Tension: type[peewee.Model]
    Axis: type[peewee.Model]
    EngineRun: type[peewee.Model]
    EngineFeedback: type[peewee.Model]
    EvolutionProposal: type[peewee.Model]
    EvolutionHistory: type[peewee.Model]
    EvolutionEvent: type[peewee.Model]
    Integration: type[peewee.Model]
    SchemaVersion: type[peewee.Model]
    Draft: type[peewee.Model]
    IntegrationItem: type[peewee.Model]  # adapter extension (migration 003)
    Attachment: type[peewee.Model]  # adapter extension (migration 004)
    AttachmentBlob: type[peewee.Model] | None  # attachment bytes in the database: PostgreSQL (004), encrypted SQLite (009)
    Template: type[peewee.Model]  # adapter extension (migration 005)


def build_models(database: peewee.Database, dialect: str) -> ModelSet:
    """Define the spec's models bound to ``database``; ``dialect`` picks timestamp and JSON fields."""
    TS = SqliteTimestampField if dialect == "sqlite" else PgTimestampField
    JS = SqliteJSONField if dialect == "sqlite" else PgJSONField

    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    Base._meta.set_database(database)

    class Identity(Base):
        id = peewee.TextField(primary_key=True)
        created_at = TS()
        updated_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "identities"

    class Reflection(Base):
        id = peewee.TextField(primary_key=True)
        identity_id = peewee.TextField(null=True)
        content = peewee.TextField()
        content_type = peewee.TextField(null=True)
        visibility = peewee.TextField()
        created_at = TS()
        source = peewee.TextField(null=True)
        metadata = JS(null=True)

        class Meta:
            table_name = "reflections"

    class Mirrorback(Base):
        id = peewee.TextField(primary_key=True)
        reflection_id = peewee.TextField()
        content = peewee.TextField()
        engine_version = peewee.TextField()
        created_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "mirrorbacks"

    class Thread(Base):
        id = peewee.TextField(primary_key=True)
        identity_id = peewee.TextField(null=True)
        title = peewee.TextField(null=True)
        started_at = TS()
        last_active = TS()
        status = peewee.TextField()
        metadata = JS(null=True)

        class Meta:
            table_name = "threads"

    class ThreadReflection(Base):
        thread_id = peewee.TextField()
        reflection_id = peewee.TextField()
        position = peewee.IntegerField()
        added_at = TS()

        class Meta:
            table_name = "thread_reflections"
            primary_key = peewee.CompositeKey("thread_id", "reflection_id")

    class Tension(Base):
        id = peewee.TextField(primary_key=True)
        identity_id = peewee.TextField(null=True)
        name = peewee.TextField()
        axis_a = peewee.TextField()
        axis_b = peewee.TextField()
        position = peewee.FloatField(null=True)
        intensity = peewee.FloatField(null=True)
        origin = peewee.TextField()
        sync_mode = peewee.TextField()
        created_at = TS()
        updated_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "tensions"

    class Axis(Base):
        id = peewee.TextField(primary_key=True)
        identity_id = peewee.TextField(null=True)
        name = peewee.TextField()
        description = peewee.TextField(null=True)
        category = peewee.TextField(null=True)
        created_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "axes"

    class EngineRun(Base):
        id = peewee.TextField(primary_key=True)
        reflection_id = peewee.TextField(null=True)
        config_version = peewee.TextField()
        engine_mode = peewee.TextField()
        model_name = peewee.TextField(null=True)
        patterns = JS(null=True)
        tensions_surfaced = JS(null=True)
        mirrorback_length = peewee.IntegerField(null=True)
        duration_ms = peewee.IntegerField(null=True)
        flags = JS(null=True)
        timestamp = TS()
        sync_allowed = peewee.BooleanField()

        class Meta:
            table_name = "engine_runs"

    class EngineFeedback(Base):
        id = peewee.TextField(primary_key=True)
        engine_run_id = peewee.TextField()
        rating = peewee.IntegerField(null=True)
        flags = JS(null=True)
        notes = peewee.TextField(null=True)
        timestamp = TS()
        sync_allowed = peewee.BooleanField()

        class Meta:
            table_name = "engine_feedback"

    class EvolutionProposal(Base):
        id = peewee.TextField(primary_key=True)
        proposal_type = peewee.TextField()
        status = peewee.TextField()
        from_version = peewee.TextField(null=True)
        to_version = peewee.TextField(null=True)
        title = peewee.TextField()
        description = peewee.TextField()
        changes = JS()
        evidence = JS(null=True)
        test_results = JS(null=True)
        vote_results = JS(null=True)
        created_at = TS()
        approved_at = TS(null=True)
        applied_at = TS(null=True)
        metadata = JS(null=True)

        class Meta:
            table_name = "evolution_proposals"

    class EvolutionHistory(Base):
        id = peewee.TextField(primary_key=True)
        evolution_id = peewee.TextField()
        event_type = peewee.TextField()
        from_version = peewee.TextField(null=True)
        to_version = peewee.TextField(null=True)
        applied_at = TS()
        applied_by = peewee.TextField(null=True)
        reversible = peewee.BooleanField()
        metadata = JS(null=True)

        class Meta:
            table_name = "evolution_history"

    class EvolutionEvent(Base):
        id = peewee.TextField(primary_key=True)
        event_type = peewee.TextField()
        from_version = peewee.TextField(null=True)
        to_version = peewee.TextField(null=True)
        event_data = JS()
        timestamp = TS()
        mirror_signature = peewee.TextField(null=True)
        sync_allowed = peewee.BooleanField()

        class Meta:
            table_name = "evolution_events"

    class Integration(Base):
        id = peewee.TextField(primary_key=True)
        identity_id = peewee.TextField(null=True)
        integration_type = peewee.TextField()
        status = peewee.TextField()
        config = JS()
        connected_at = TS()
        last_sync = TS(null=True)
        metadata = JS(null=True)

        class Meta:
            table_name = "integrations"

    class Draft(Base):
        id = peewee.TextField(primary_key=True)
        reflection_id = peewee.TextField(null=True)
        identity_id = peewee.TextField(null=True)
        content = peewee.TextField()
        metadata = JS(null=True)
        updated_at = TS()

        class Meta:
            table_name = "drafts"

    class IntegrationItem(Base):
        integration_id = peewee.TextField()
        external_id = peewee.TextField()
        kind = peewee.TextField()
        title = peewee.TextField(null=True)
        starts_at = TS(null=True)
        ends_at = TS(null=True)
        all_day = peewee.BooleanField()
        version = peewee.TextField()
        state = peewee.TextField()
        reflection_id = peewee.TextField(null=True)
        first_seen_at = TS()
        updated_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "integration_items"
            primary_key = peewee.CompositeKey("integration_id", "external_id")

    class Attachment(Base):
        id = peewee.TextField(primary_key=True)
        reflection_id = peewee.TextField()
        sha256 = peewee.TextField()
        mime_type = peewee.TextField()
        size_bytes = peewee.BigIntegerField()
        filename = peewee.TextField(null=True)
        created_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "attachments"

    # The bytes of attachments where they live in the database: PostgreSQL (migration 004) and an
    # encrypted SQLite journal (migration 009); a plain SQLite journal keeps files beside it instead.
    class AttachmentBlob(Base):
        sha256 = peewee.TextField(primary_key=True)
        data = peewee.BlobField()

        class Meta:
            table_name = "attachment_blobs"

    class Template(Base):
        id = peewee.TextField(primary_key=True)
        name = peewee.TextField()
        body = peewee.TextField()
        created_at = TS()
        updated_at = TS()
        metadata = JS(null=True)

        class Meta:
            table_name = "templates"

    class SchemaVersion(Base):
        id = peewee.AutoField()
        version = peewee.TextField()
        description = peewee.TextField(null=True)
        applied_at = TS()
        checksum = peewee.TextField(null=True)

        class Meta:
            table_name = "schema_version"

    return ModelSet(Identity, Reflection, Mirrorback, Thread, ThreadReflection, Tension, Axis, EngineRun,
                    EngineFeedback, EvolutionProposal, EvolutionHistory, EvolutionEvent, Integration, SchemaVersion, Draft,
                    IntegrationItem, Attachment, AttachmentBlob, Template)
