"""Throw-away TLS certificates for private servers: a CA and a server certificate it signs."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TlsFiles", "make_tls_files"]


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA certificate clients trust, and the server's certificate and key."""

    ca: Path
    cert: Path
    key: Path


def make_tls_files(directory: Path, common_name: str = "localhost") -> TlsFiles:
    """Write a one-day CA and a certificate for ``localhost``/``127.0.0.1`` into ``directory``.

    Uses the ``openssl`` command line (RSA 2048, about a second).

    Raises:
        subprocess.CalledProcessError: openssl failed; its stderr is on the exception.
    """
    ca_key, ca, key, csr, cert = (
        directory / name for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout",
             str(ca_key), "-out", str(ca), "-subj", "/CN=envoxy test CA")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", f"/CN={common_name}")  # fmt: skip
    extensions = directory / "san.ext"
    extensions.write_text(f"subjectAltName=IP:127.0.0.1,DNS:{common_name}\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-out", str(cert),
             "-extfile", str(extensions))  # fmt: skip
    return TlsFiles(ca=ca, cert=cert, key=key)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
