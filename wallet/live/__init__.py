"""The live feed without the web: which wallets' books have new entries (``hub``), and what to send about
them (``feed``). The portal's ``wallet/web/live.py`` turns these into Server-Sent Events."""
from wallet.live.feed import LiveEntry, book_position, entries_after
from wallet.live.hub import Hub, Notifier, PostgresListener, SqlitePoller, Subscription, hub_for

__all__ = ["Hub", "LiveEntry", "Notifier", "PostgresListener", "SqlitePoller", "Subscription", "book_position",
           "entries_after", "hub_for"]
