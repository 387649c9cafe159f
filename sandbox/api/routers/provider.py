"""Providers: (endpoints in progress)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/provider", tags=["provider"])
