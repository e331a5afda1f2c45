"""The audit log: one call records who did what."""

from __future__ import annotations

import logging

from .models import AuditEntry

logger = logging.getLogger(__name__)


def audit_record(*, action: str, summary: str, actor=None, **details) -> AuditEntry:
    """Store an audit entry (in the caller's transaction: it stands or falls with the change)."""
    logger.info("Audit: %s (%s)", summary, actor.get_username() if actor else "command line")
    return AuditEntry.objects.create(
        action=action, summary=summary[:200], actor=actor if actor and actor.pk else None, details=details
    )
