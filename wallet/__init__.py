"""The wallet service: composes the ledger, payroll and HMRC export into the product people use."""
