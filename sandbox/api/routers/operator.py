"""Operators: (endpoints in progress)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/operator", tags=["operator"])
