"""Alerts: the Prefect events pm-agent emits, and the automations that notify a person.

Flows emit one event per thing a trader must hear about (``prefect.events.emit_event``):

==============================  =============================================================
event                           when
==============================  =============================================================
``pm-agent.trading.halted``     the kill switch was turned on (CLI, halt deployment, UI Variable)
``pm-agent.trading.resumed``    the kill switch was turned off
``pm-agent.breaker.tripped``    a run found the daily-loss breaker tripped (once per UTC day)
``pm-agent.leg-risk.open``      a basket was left lopsided (leg risk ``open`` or ``held``)
``pm-agent.order.filled``       an order filled (fully or partly), one event per order
==============================  =============================================================

Each event's resource is ``pm-agent.account.<mode>`` and it is related to the flow run that
emitted it. ``setup_alerts`` creates (or replaces) one automation per event above plus one for
a failed or crashed pm-agent flow run, each sending through one Prefect notification block
(a webhook, Slack, email... block the user already made, or a webhook block it creates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.events import emit_event

__all__ = [
    "ALERTS",
    "BREAKER_TRIPPED",
    "FILLED",
    "HALTED",
    "LEG_RISK_OPEN",
    "RESUMED",
    "Alert",
    "emit",
    "setup_alerts",
]

HALTED = "pm-agent.trading.halted"
RESUMED = "pm-agent.trading.resumed"
BREAKER_TRIPPED = "pm-agent.breaker.tripped"
LEG_RISK_OPEN = "pm-agent.leg-risk.open"
FILLED = "pm-agent.order.filled"
RUN_FAILED = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed")
FLOW_NAMES = ("scan-and-trade", "scan-loop", "reconcile", "daily-report", "halt", "resume", "close")


def emit(event: str, mode: str, payload: Mapping[str, Any]) -> None:
    """Emit one pm-agent event about account ``mode`` (best effort: never stops trading)."""
    emit_event(
        event=event,
        resource={
            "prefect.resource.id": f"pm-agent.account.{mode}",
            "prefect.resource.name": f"pm-agent {mode} account",
        },
        payload=dict(payload),
    )


@dataclass(frozen=True)
class Alert:
    """One shipped automation: its name, the events it fires on, and the message it sends."""

    name: str
    events: tuple[str, ...]
    subject: str
    body: str
    match: Mapping[str, Any] | None = None
    match_related: Mapping[str, Any] | None = None


_EVENT_BODY = (
    "{{ event.event }} on {{ event.resource['prefect.resource.name'] }} at "
    "{{ event.occurred }}\n{{ event.payload | tojson }}"
)

ALERTS: tuple[Alert, ...] = (
    Alert(
        "pm-agent: run failed or crashed",
        RUN_FAILED,
        "pm-agent run {{ flow_run.name }} {{ flow_run.state.name }}",
        "Flow run {{ flow_run.name }} ({{ flow.name }}) ended {{ flow_run.state.name }}: "
        "{{ flow_run.state.message }}",
        {"prefect.resource.id": "prefect.flow-run.*"},
        # Only pm-agent's flows (by flow name).
        {"prefect.resource.role": "flow", "prefect.resource.name": list(FLOW_NAMES)},
    ),
    Alert("pm-agent: trading halted", (HALTED,), "pm-agent HALTED", _EVENT_BODY),
    Alert("pm-agent: trading resumed", (RESUMED,), "pm-agent resumed", _EVENT_BODY),
    Alert(
        "pm-agent: daily-loss breaker tripped",
        (BREAKER_TRIPPED,),
        "pm-agent daily-loss breaker tripped",
        _EVENT_BODY,
    ),
    Alert("pm-agent: leg risk open", (LEG_RISK_OPEN,), "pm-agent leg risk left open", _EVENT_BODY),
    Alert("pm-agent: order filled", (FILLED,), "pm-agent fill", _EVENT_BODY),
)


async def _notification_block(client: Any, block: str | None, webhook: str | None) -> UUID:
    """The id of the notification block to send through: ``block`` (``type/name``) as the
    user made it, or a ``CustomWebhookNotificationBlock`` named ``pm-agent-alerts`` on
    ``webhook`` (saved, overwriting an earlier one)."""
    from prefect.blocks.core import Block
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    if block:
        loaded: Any = await Block.aload(block)
        return UUID(str(loaded._block_document_id))
    if not webhook:
        raise ValueError("give a webhook URL or a notification block (type/name)")
    notifier = CustomWebhookNotificationBlock(
        name="pm-agent",
        url=webhook,
        json_data={"subject": "{{subject}}", "body": "{{body}}", "source": "pm-agent"},
    )
    return UUID(str(await notifier.save("pm-agent-alerts", overwrite=True)))


async def setup_alerts(
    *, webhook: str | None = None, block: str | None = None, prefix: str = ""
) -> list[str]:
    """Create (or replace, by name) the shipped automations; returns their names."""
    from prefect.automations import Automation, EventTrigger, Posture, SendNotification
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        block_id = await _notification_block(client, block, webhook)
        existing = {a.name: a for a in await client.read_automations()}
        names = []
        for alert in ALERTS:
            name = f"{prefix}{alert.name}"
            if name in existing:
                await client.delete_automation(existing[name].id)
            match = dict(alert.match or {"prefect.resource.id": "pm-agent.account.*"})
            await Automation(
                name=name,
                description=f"pm-agent alert: {', '.join(alert.events)}",
                trigger=EventTrigger(
                    expect=set(alert.events),
                    match=match,
                    match_related=dict(alert.match_related or {}),
                    posture=Posture.Reactive,
                    threshold=1,
                ),
                actions=[
                    SendNotification(
                        block_document_id=block_id, subject=alert.subject, body=alert.body
                    )
                ],
            ).acreate()
            names.append(name)
    return names
