"""Import the plugin from ``src/`` when it is not installed (as in the s3events repository's run).

When the distribution is installed (``pip install .``, or ``-e .``), the installed package is
used and this file changes nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("s3events_acme_chat") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
