"""The plugin-author test kit: fixtures, fakes and contract suites for s3events plugins.

Importing this package loads nothing heavy; the pieces live in submodules:

- :mod:`s3events.testing.specs` checks request bodies against the vendors' own API specs;
- :mod:`s3events.testing.pytest_plugin` is registered with pytest (entry point ``pytest11``)
  and provides the fixtures and the ``s3events_no_network`` marker.
"""
