"""Evidence on ledger entries: files kept by their SHA-256 (``storage``) and the records and proof that tie
them to the wallet's entries (``service``). See ``wallet.evidence.service`` for how a hash reaches the books."""
from wallet.evidence.service import (Evidence, EvidenceKind, EvidenceReport, attach_evidence, entry_evidence,
                                     evidence_for_download, verify_evidence)
from wallet.evidence.storage import MAX_BYTES, EvidenceMissing, EvidenceRefused, EvidenceStore

__all__ = ["Evidence", "EvidenceKind", "EvidenceReport", "EvidenceStore", "EvidenceRefused", "EvidenceMissing",
           "MAX_BYTES", "attach_evidence", "entry_evidence", "evidence_for_download", "verify_evidence"]
