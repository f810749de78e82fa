"""Delivery: the run loop that claims due ledger rows, sends them concurrently and marks them.

:mod:`~s3events.delivery.sending` sends one channel — claims in batches, composes in order,
sends up to the channel's concurrency at once, marks each row as soon as its server accepts
it; :mod:`~s3events.delivery.throttle` paces a channel under one rate limit (a token bucket
in the state database, shared by every worker) and pauses it when a service asks;
:mod:`~s3events.delivery.report` says what a run did, :mod:`~s3events.delivery.run` what
its channels share (scope, clock, report). :func:`s3events.dispatch.dispatch`
puts them together.
"""

from __future__ import annotations

from .report import DispatchReport
from .run import Run, Scope
from .sending import ChannelSender
from .throttle import StoreBucket, Throttle

__all__ = ["ChannelSender", "DispatchReport", "Run", "Scope", "StoreBucket", "Throttle"]
