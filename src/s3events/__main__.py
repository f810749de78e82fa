"""``python -m s3events``: the same as the ``s3events`` command."""

from s3events.cli import main

if __name__ == "__main__":
    main()
