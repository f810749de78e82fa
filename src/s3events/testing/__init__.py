"""The plugin-author test kit: fixtures, fakes and contract suites for s3events plugins.

Importing this package loads nothing heavy; the pieces live in submodules, and the names
below are imported from them on first use:

- :mod:`s3events.testing.specs` checks request bodies against the vendors' own API specs;
- :mod:`s3events.testing.helpers` has :class:`SleepRecorder`, :func:`vendor_mock` (a
  ``responses`` mock that checks every body sent against the vendor's spec) with its
  fixture maker :func:`vendor_mock_fixture`, :func:`assert_not_logged` and
  :func:`forgetting_the_link`;
- :mod:`s3events.testing.matchers` has :func:`json_fields`, :func:`query_fields`,
  :func:`same_instant` and :func:`contains`: ``responses`` matchers for mocks that check
  what they are sent;
- :mod:`s3events.testing.clock` has :class:`Clock`;
- :mod:`s3events.testing.pytest_plugin` is registered with pytest (entry point ``pytest11``)
  and provides the fixtures (``frozen_clock``, ``recorded_sleep``, …) and the
  ``s3events_no_network`` marker.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock
    from .helpers import (
        SleepRecorder,
        VendorMock,
        assert_not_logged,
        forgetting_the_link,
        vendor_mock,
        vendor_mock_fixture,
    )
    from .matchers import contains, json_fields, query_fields, same_instant

__all__ = ["Clock", "SleepRecorder", "VendorMock", "assert_not_logged", "contains",
           "forgetting_the_link", "json_fields", "query_fields", "reference_request",
           "same_instant", "vendor_mock", "vendor_mock_fixture"]

_HOMES = {"Clock": "clock", "SleepRecorder": "helpers", "VendorMock": "helpers",
          "assert_not_logged": "helpers", "forgetting_the_link": "helpers",
          "reference_request": "helpers", "vendor_mock": "helpers",
          "vendor_mock_fixture": "helpers", "json_fields": "matchers", "query_fields": "matchers",
          "same_instant": "matchers", "contains": "matchers"}


def __getattr__(name: str) -> Any:
    """Import a kit name from its submodule when it is first asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
