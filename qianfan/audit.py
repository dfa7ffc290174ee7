"""The append-only, hash-chained audit log.

Each record's hash is ``sha256(prev_hash ‖ canonical JSON of the record)``; ``seq`` is unique, so two writers can
never fork the chain (on PostgreSQL a transaction-scoped advisory lock makes them queue instead of failing).
:func:`verify_chain` recomputes every link and names the first broken one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from qianfan.clock import ensure_utc
from qianfan.models.system import AuditEvent

GENESIS = "0" * 64
_ADVISORY_KEY = 0x51A4F4  # "qianfan audit" lock id


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def compute_hash(
    *,
    prev_hash: str,
    seq: int,
    entity_type: str,
    entity_id: int,
    action: str,
    actor_id: int | None,
    payload: dict[str, Any],
    at: datetime,
) -> str:
    record = {
        "seq": seq,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "actor_id": actor_id,
        "payload": payload,
        "at": ensure_utc(at).isoformat(),
    }
    return hashlib.sha256(prev_hash.encode() + _canonical(record)).hexdigest()


def append(
    session: Session,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    at: datetime,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
    head = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    seq = 1 if head is None else head.seq + 1
    prev_hash = GENESIS if head is None else head.hash
    body = json.loads(_canonical(payload or {}))  # what is stored is exactly what was hashed
    event = AuditEvent(
        seq=seq,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        payload=body,
        at=ensure_utc(at),
        prev_hash=prev_hash,
        hash=compute_hash(
            prev_hash=prev_hash,
            seq=seq,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor_id=actor_id,
            payload=body,
            at=at,
        ),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    ok: bool
    broken_seq: int | None = None
    reason: str | None = None


def verify_events(events: Iterable[AuditEvent]) -> ChainReport:
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for ev in events:
        if ev.seq != expected_seq:
            return ChainReport(checked, False, ev.seq, f"gap: expected seq {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev_hash:
            return ChainReport(checked, False, ev.seq, "prev_hash does not match the previous record's hash")
        recomputed = compute_hash(
            prev_hash=prev_hash,
            seq=ev.seq,
            entity_type=ev.entity_type,
            entity_id=ev.entity_id,
            action=ev.action,
            actor_id=ev.actor_id,
            payload=ev.payload,
            at=ev.at,
        )
        if recomputed != ev.hash:
            return ChainReport(checked, False, ev.seq, "record was altered: its hash does not match its content")
        prev_hash = ev.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked, True)


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute the whole chain, streaming in batches."""

    def stream() -> Iterable[AuditEvent]:
        last = 0
        while True:
            rows = session.exec(
                select(AuditEvent).where(col(AuditEvent.seq) > last).order_by(col(AuditEvent.seq)).limit(batch)
            ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].seq

    return verify_events(stream())
