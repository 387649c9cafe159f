"""Append-only, hash-chained audit log. ``record`` is the one way any state change is audited."""

from sandbox.audit.chain import AuditEvent, VerifyResult, record, verify

__all__ = ["AuditEvent", "VerifyResult", "record", "verify"]
