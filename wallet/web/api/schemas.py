"""Marshmallow schemas of the JSON API: what requests may hold (checked before anything is written) and what
responses hold. Money is always an integer of pence; dates are ISO 8601."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from wallet.domain.alerts import AlertKind
from wallet.domain.chart import Category
from wallet.domain.payments import PaymentStatus

Pence = lambda **kw: fields.Integer(strict=True, **kw)  # noqa: E731  (an int of pence, never a float or a string)


# ---------------------------------------------------------------------- errors
class ErrorBodySchema(Schema):
    status = fields.Integer(required=True)
    title = fields.String(required=True)
    detail = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), data_key="fields", metadata={
        "description": "For a request that did not pass validation: what is wrong with each field"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# ---------------------------------------------------------------------- queries and bodies
class PageQuery(Schema):
    # Bounded so that page x page_size always fits a 64-bit database integer.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class WalletListQuery(PageQuery):
    pass


class PeriodQuery(Schema):
    start = fields.Date(metadata={"description": "First day (included). Default: 90 days before today."})
    end = fields.Date(metadata={"description": "Last day (included). Default: today."})

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("The last day must be on or after the first day.", "end")


class TransactionQuery(PeriodQuery, PageQuery):
    funder = fields.String(metadata={"description": "Only this funding stream's money (its id)."})
    direction = fields.String(validate=validate.OneOf(["in", "out"]),
                              metadata={"description": "Only money in, or only money out."})


class PaymentRequestListQuery(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in PaymentStatus]))


class AlertQuery(Schema):
    include_dismissed = fields.Boolean(load_default=False)


class ExportQuery(PeriodQuery):
    funder = fields.String(metadata={"description": "Only this funding stream's money (its id)."})


class NewPaymentRequestSchema(Schema):
    payee_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    amount = Pence(required=True, validate=validate.Range(min=1, max=10_000_000_00),
                   metadata={"description": "Whole pence, more than zero."})
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))
    funder = fields.String(validate=validate.Length(min=1, max=36),
                           metadata={"description": "Which funder pays (a funding stream id); optional when the "
                                                    "plan says."})
    reference = fields.String(validate=validate.Length(max=200), allow_none=True)
    key = fields.String(validate=validate.Length(min=1, max=200),
                        metadata={"description": "Your idempotency key: repeating a request with it returns the "
                                                 "first result."})

    @validates_schema
    def _described(self, data, **kwargs):
        if "description" in data and not data["description"].strip():
            raise ValidationError("Say what the payment is for.", "description")


class ApproveSchema(Schema):
    note = fields.String(validate=validate.Length(max=1000), allow_none=True)


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))

    @validates_schema
    def _given(self, data, **kwargs):
        if "reason" in data and not data["reason"].strip():
            raise ValidationError("Say why the payment is rejected.", "reason")


# ---------------------------------------------------------------------- responses
class WalletSummarySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    reference = fields.String(allow_none=True)
    holder_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True,
                        metadata={"description": "Your own roles on the wallet (none for staff who see it "
                                                 "through their job)."})
    actions = fields.List(fields.String(), required=True,
                          metadata={"description": "What you may do with this wallet."})


class WalletListSchema(Schema):
    items = fields.List(fields.Nested(WalletSummarySchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    next_page = fields.Integer(allow_none=True, required=True)


class MoneySchema(Schema):
    posted = Pence(required=True, metadata={"description": "Money held (pence)."})
    held = Pence(required=True, metadata={"description": "Of that, held for payments awaiting approval."})
    available = Pence(required=True)


class FunderBalanceSchema(MoneySchema):
    funder = fields.String(required=True, metadata={"description": "The funding stream's id."})
    name = fields.String(required=True)


class WalletBalanceSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    reference = fields.String(allow_none=True)
    currency = fields.String(required=True)
    balance = fields.Nested(MoneySchema, required=True)
    funders = fields.List(fields.Nested(FunderBalanceSchema), required=True)


class TransactionSchema(Schema):
    entry_id = fields.String(required=True)
    date = fields.Date(required=True)
    effective_at = fields.DateTime(required=True)
    description = fields.String(required=True)
    reference = fields.String(allow_none=True)
    funder = fields.String(required=True)
    funder_name = fields.String(required=True)
    amount = Pence(required=True, metadata={"description": "In (positive) or out (negative) of that funder's money."})
    balance = Pence(required=True, metadata={"description": "That funder's money after this line."})


class TransactionPageSchema(Schema):
    items = fields.List(fields.Nested(TransactionSchema), required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)


class DecisionSchema(Schema):
    decision = fields.String(required=True)
    decided_by = fields.String(required=True)
    reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(required=True)


class PaymentRequestSchema(Schema):
    id = fields.String(required=True)
    wallet_id = fields.String(required=True)
    payee_id = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    funder = fields.String(required=True)
    amount = Pence(required=True)
    description = fields.String(required=True)
    reference = fields.String(allow_none=True)
    requested_by = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    on_behalf = fields.Boolean(required=True)
    approval_reasons = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in PaymentStatus]))
    entry_id = fields.String(allow_none=True, metadata={"description": "The ledger entry that paid it."})
    decisions = fields.List(fields.Nested(DecisionSchema), required=True)


class PaymentRequestListSchema(Schema):
    items = fields.List(fields.Nested(PaymentRequestSchema), required=True)


class AlertSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in AlertKind]))
    message = fields.String(required=True)
    details = fields.Dict(required=True)
    raised_at = fields.DateTime(required=True)
    dismissed_at = fields.DateTime(allow_none=True)


class AlertListSchema(Schema):
    items = fields.List(fields.Nested(AlertSchema), required=True)


class ExportEntrySchema(Schema):
    date = fields.Date(required=True)
    effective_at = fields.DateTime(required=True)
    entry_id = fields.String(required=True)
    description = fields.String(required=True)
    reference = fields.String(allow_none=True)
    funder = fields.String(required=True)
    category = fields.String(required=True)
    money_in = Pence(required=True)
    money_out = Pence(required=True)
    balance = Pence(required=True)
    sequence = fields.Integer(required=True)
    entry_hash = fields.String(required=True)


class ExportEvidenceSchema(Schema):
    evidence_id = fields.String(required=True)
    entry_id = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={"description": "receipt, invoice, timesheet or payslip"})
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the file as it was attached"})
    media_type = fields.String(required=True)
    bytes = fields.Integer(required=True)
    file_name = fields.String(required=True, allow_none=True)
    attached_at = fields.String(required=True, metadata={"description": "When it was attached (ISO 8601)"})
    record_hash = fields.String(required=True, metadata={"description": "The evidence record's chain hash"})


class ExportBundleSchema(Schema):
    bundle = fields.String(required=True)
    manifest_version = fields.Integer(required=True)
    export_id = fields.String(required=True)
    opening_balance = Pence(required=True)
    entries = fields.List(fields.Nested(ExportEntrySchema), required=True)
    closing_balance = Pence(required=True)
    evidence = fields.List(fields.Nested(ExportEvidenceSchema), required=True, metadata={
        "description": "Receipts, invoices, timesheets and payslips attached to the period's entries (the files "
                       "are in the ZIP exports; here their hashes)."})
    manifest = fields.Dict(required=True, metadata={
        "description": "Export id, wallet, funder, period, row count, balances, entries_sha256 and the ledger "
                       "chain hashes (see wallet.exports.manifest)."})
