"""Root conftest: shared fixtures for the project's tests, the plugins' and the examples'."""

pytest_plugins = [
    "tests.fixtures.series",
    "tests.fixtures.postgres",
    "tests.fixtures.smtp",
    "tests.fixtures.chat",
    "tests.fixtures.browser",
]
