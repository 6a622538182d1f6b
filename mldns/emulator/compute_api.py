"""Compute v1 (placeholder until health checks and backend services land)."""

RULES: list = []
