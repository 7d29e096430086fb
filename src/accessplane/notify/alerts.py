"""The worker's alert pass: every enabled alert rule evaluated over the call log.

Each rule is evaluated in a short transaction of its own (``services/alerts.py``): a rule that
fails (its app deleted meanwhile, a lost race on PostgreSQL) is logged and evaluated again on
the next pass from the same watermark, and the others go on.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from accessplane.models import AlertRule
from accessplane.models.base import utcnow
from accessplane.notify.links import ConsoleLinks
from accessplane.services.alerts import evaluate_rule

logger = logging.getLogger(__name__)

# How often the worker evaluates the rules (a pass is a few statements per rule and window).
EVALUATE_EVERY = timedelta(seconds=60)


async def evaluate_alert_rules(
    sessions: async_sessionmaker[Any], *, links: ConsoleLinks, now: datetime | None = None
) -> int:
    """Evaluate every enabled rule once; returns how many alerts this call raised. Safe to
    run in several workers at once: each alert is raised (and acted on) once."""
    now = now or utcnow()
    async with sessions() as session:
        ids: list[uuid.UUID] = list(
            (
                await session.scalars(
                    select(col(AlertRule.id))
                    .where(col(AlertRule.enabled).is_(True))
                    .order_by(col(AlertRule.id))
                )
            ).all()
        )
        await session.rollback()
        raised = 0
        for rule_id in ids:
            try:
                async with session.begin():
                    rule = await session.get(AlertRule, rule_id, populate_existing=True)
                    if rule is not None and rule.enabled:
                        raised += await evaluate_rule(session, rule, links, now)
            except Exception:  # one rule's failure must not stop the others
                logger.exception("alert rule %s: evaluation failed", rule_id)
    if raised:
        logger.info("alert rules: %d alert(s) raised", raised)
    return raised
