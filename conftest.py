"""Root conftest: shared fixtures for the project's tests, the plugins' and the examples'.

And the skip gate (``tests/skip_gate.py``): with ``CI`` set, a skip that is not a design
skip fails the run.
"""

pytest_plugins = [
    "tests.fixtures.series",
    "tests.fixtures.postgres",
    "tests.fixtures.smtp",
    "tests.fixtures.chat",
    "tests.fixtures.browser",
    "tests.skip_gate",
]
