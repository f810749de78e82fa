"""The flat public API: every name in ``s3events.__all__`` imports, and nothing is missing."""

from __future__ import annotations

import subprocess
import sys

import s3events


def test_every_exported_name_resolves() -> None:
    for name in s3events.__all__:
        assert getattr(s3events, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in s3events.__all__ if n != "__version__"]
    assert names == sorted(set(names))


def test_models_are_the_public_api() -> None:
    from s3events import Series, Session, load_series

    assert Series.__module__ == "s3events.models"
    assert Session.__module__ == "s3events.models"
    assert callable(load_series)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        s3events.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_loads_no_heavy_module() -> None:
    code = (
        "import sys, s3events; heavy = [m for m in ('pydantic', 'sqlalchemy', 'requests', "
        "'jinja2', 'icalendar', 'babel') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
