"""The bank tests' wallet and books (a fortnight of April 2026 spending) for the monthly report."""
from tests.integration.bank.conftest import books  # noqa: F401  (fixtures)
from tests.integration.wallet.conftest import uow, world  # noqa: F401  (fixtures)
