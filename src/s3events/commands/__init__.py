"""The CLI commands, one module per family, imported lazily by :mod:`s3events.cli`."""
