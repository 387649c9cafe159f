"""The correction-ticket list, as the provider's inbox and the operator's desk both show it."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from sandbox.domain.quality import OPEN_STATES, TicketState
from sandbox.governance.access import Principal
from sandbox.quality import tickets

from .render import page

#: States in which a ticket still waits for someone; past its due date it is shown overdue.
OPEN = frozenset(s.value for s in OPEN_STATES)


def ticket_list(request: Request, who: Principal, ctx, state: TicketState | None, *, base: str,
                lead: str | None = None, disputed_first: bool = False) -> Response:  # fmt: skip
    """The tickets ``who`` may see (``state`` to filter), linked to ``base``'s ticket pages."""
    rows = [tickets.ticket_view(t) for t in tickets.list_tickets(ctx, who, state=state)]
    if disputed_first:
        rows.sort(key=lambda t: t["state"] != TicketState.DISPUTED.value)
    return page(request, who, "ticket_list.html", base=base, lead=lead, tickets=rows,
                state=state.value if state else "", states=[s.value for s in TicketState],
                today=tickets.shanghai_today().isoformat(), open_states=OPEN)  # fmt: skip
