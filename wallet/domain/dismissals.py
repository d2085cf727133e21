"""Dismissing an alert, each person for themselves.

An alert stays raised for the wallet (``wallet_alert``); dismissing it hides it from the home page of the person
who dismissed it only (``wallet_alert_dismissal``), so a holder putting an alert away does not hide it from their
appointee or support manager. Each dismissal is written to the access log.

When does a dismissed alert come back? Each alert has a cause naming the period or date it is about
(``alerts.find_alerts``): a low balance for the plan period starting on a date, a surplus or an overspend in
the plan period running, a missed funding date, an insurance renewal date. Within that period the same cause is
never raised again, so the dismissal holds. If the condition is still (or again) true in a later plan period,
or another funding date is missed, the daily check raises a new alert with a new cause, and it shows to
everyone, including those who dismissed the earlier one.
"""
from __future__ import annotations

from sqlalchemy import and_, select

from wallet.domain.alerts import Alert
from wallet.domain.alerts import _alert as alert_from_row
from wallet.domain.errors import PermissionDenied, UnknownAlert
from wallet.domain.permissions import Action, can, load_access, load_user
from wallet.domain.tables import alert_dismissal_t, alert_t, user_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork

DISMISS = "dismiss_alert"
"""The access log's word for it: not a permission of its own; whoever sees the home page may dismiss."""


def dismiss_for_me(uow: UnitOfWork, wallet_id: str, alert_id: str, *, actor: str) -> Alert:
    """Hide one of the wallet's alerts from ``actor``'s home page. Needs ``view_balance`` (the alerts are shown
    on the home page). Dismissing again changes nothing."""

    def work(tx: Tx) -> Alert:
        row = tx.wallet_row(wallet_id)
        user = load_user(tx, actor) if actor != SYSTEM else None
        if user is None or not can(user, Action.VIEW_BALANCE, load_access(tx, row, user.id)):
            tx.audit(row.id, actor, DISMISS, f"alert {alert_id}", outcome="denied")
            raise PermissionDenied(actor, DISMISS, wallet_id)
        found = tx.conn.execute(select(alert_t).where(and_(alert_t.c.uuid == alert_id,
                                                           alert_t.c.wallet_id == row.id))).first()
        tx.audit(row.id, actor, DISMISS, f"alert {alert_id}" + (f" ({found.cause})" if found is not None else ""))
        if found is None:
            raise UnknownAlert(f"there is no alert {alert_id} on this wallet")
        me = tx.conn.execute(select(user_t.c.id).where(user_t.c.uuid == actor)).scalar_one()
        already = tx.conn.execute(select(alert_dismissal_t.c.id).where(and_(
            alert_dismissal_t.c.alert_id == found.id, alert_dismissal_t.c.user_id == me))).first()
        if already is None:
            tx.conn.execute(alert_dismissal_t.insert(), dict(alert_id=found.id, user_id=me, dismissed_us=tx.now_us()))
        return alert_from_row(found, wallet_id)

    return uow.write(work)


def not_dismissed_by(actor: str):
    """A condition on ``wallet_alert`` rows: not dismissed by this person (for the home page's one query)."""
    return ~select(alert_dismissal_t.c.id).join(user_t, user_t.c.id == alert_dismissal_t.c.user_id).where(and_(
        alert_dismissal_t.c.alert_id == alert_t.c.id, user_t.c.uuid == actor)).exists()


__all__ = ["DISMISS", "dismiss_for_me", "not_dismissed_by"]
