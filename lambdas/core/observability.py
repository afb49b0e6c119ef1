"""Logger and metrics singletons shared by every handler (never instantiate them elsewhere)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
