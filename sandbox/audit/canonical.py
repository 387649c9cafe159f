"""The canonical encoding that event hashes are computed over.

Sorted keys, no insignificant whitespace, UTF-8: the same event always hashes the same on
SQLite and PostgreSQL because every hashed field is stored as the exact string that was hashed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(
    *,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: str,
    prev_hash: str,
) -> str:
    payload = canonical_json(
        {
            "seq": seq,
            "ts": ts,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "details": details,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def head_signature(key: bytes, seq: int, hash_: str, base_seq: int = 0, base_hash: str = GENESIS) -> str:
    """HMAC over the chain's both ends: where it starts (after a purge) and where it ends."""
    message = f"{base_seq}:{base_hash}:{seq}:{hash_}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
