"""Throw-away TLS certificates for private servers: a CA, a server and a client certificate."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TlsFiles", "make_tls_files"]


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA certificate clients trust, the server's certificate and key,
    and a client certificate and key the same CA signed (for mutual TLS)."""

    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


def make_tls_files(directory: Path, common_name: str = "localhost") -> TlsFiles:
    """Write a one-day CA, a certificate for ``localhost``/``127.0.0.1`` and a client
    certificate (``CN=envoxy test client``) into ``directory``.

    Uses the ``openssl`` command line (RSA 2048, about a second).

    Raises:
        subprocess.CalledProcessError: openssl failed; its stderr is on the exception.
    """
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout",
             str(ca_key), "-out", str(ca), "-subj", "/CN=envoxy test CA")  # fmt: skip
    server_extensions = directory / "san.ext"
    server_extensions.write_text(f"subjectAltName=IP:127.0.0.1,DNS:{common_name}\n")
    cert, key = _signed(directory, "server", f"/CN={common_name}", ca, ca_key, server_extensions)
    client_extensions = directory / "client.ext"
    client_extensions.write_text("extendedKeyUsage=clientAuth\n")
    client_cert, client_key = _signed(
        directory, "client", "/CN=envoxy test client", ca, ca_key, client_extensions
    )
    return TlsFiles(ca=ca, cert=cert, key=key, client_cert=client_cert, client_key=client_key)


def _signed(
    directory: Path, name: str, subject: str, ca: Path, ca_key: Path, extensions: Path
) -> tuple[Path, Path]:
    """Make ``<name>.key`` and ``<name>.pem`` signed by the CA; return (cert, key)."""
    key, csr, cert = (directory / f"{name}{suffix}" for suffix in (".key", ".csr", ".pem"))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", subject)  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-out", str(cert),
             "-extfile", str(extensions))  # fmt: skip
    return cert, key


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
