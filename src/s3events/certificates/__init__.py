"""Certificates of attendance: a PDF per person, signed with a code anyone can have checked.

``s3events certificates SERIES -o DIR`` writes one PDF per person who attended enough
sessions; ``s3events certificates verify SERIES CODE`` says whether a code is genuine and
whose it is; with ``dispatch.certificates`` in the series, each qualifying person is sent
theirs by email (the ``certificate`` message) once the last session's attendance is known.

Modules: :mod:`~.codes` (signing), :mod:`~.pdf` (the page), :mod:`~.issuing` (who
qualifies, what the certificate says, verifying).
"""

from __future__ import annotations

from .codes import certificate_code, normalise_code
from .issuing import (
    Certificate,
    CertificateMaker,
    IssuedCertificate,
    Verification,
    verify_certificate,
    write_certificates,
)

__all__ = [
    "Certificate",
    "CertificateMaker",
    "IssuedCertificate",
    "Verification",
    "certificate_code",
    "normalise_code",
    "verify_certificate",
    "write_certificates",
]
