"""The wallet's domain services: called the same way from the web, the CLI, the scheduler and the tests.

Every service is a function taking a :class:`~wallet.domain.unit_of_work.UnitOfWork` first and the acting
person (``actor``, a user id, or ``SYSTEM`` where the service may act by itself) by keyword; each call is one
database transaction covering the wallet's tables and its ledger book together.

- ``unit_of_work``: the transaction, and a ledger bound to it.
- ``chart``: one wallet's chart of accounts (per-funder sub-ledgers), and support-plan categories.
- ``schedules``: plan periods, funding dates, pro-rating.
- ``wallets``: wallets, funding streams, money received and reclaimed, balances, each funder's summary.
- ``plans``: budget lines, planned against actual.
- ``payees``, ``payments``: who is paid, payment requests and their approval (money held while waiting).
- ``payroll_posting``: finalised pay runs into the ledger, and paying PAs, HMRC and the pension provider.
- ``alerts``: low balance, surplus, missed funding, overspend, insurance renewal.
- ``people``, ``permissions``, ``access_log``: users, roles on wallets, ``can``/``require``, the access log.
- ``demo``: demo wallets with a year of history.
"""
