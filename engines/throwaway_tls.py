"""A throwaway certificate authority for one run's private server (`nautilus up --tls`).

Made with the `openssl` command: a CA valid for a day and a server certificate for 127.0.0.1 and
localhost signed by it, in a 0700 directory. The CA's key is deleted once it has signed, so
nothing else can ever be signed with it; clients trust the CA through the URL's `ssl_ca_certs`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from nautilus.runtime.errors import MessageBusError
from nautilus.runtime.server import ServerTls

__all__ = ["TlsSetupError", "throwaway_tls"]

_SUBJECT_NAMES = "subjectAltName=IP:127.0.0.1,DNS:localhost\n"


class TlsSetupError(MessageBusError):
    """The throwaway CA could not be made (no `openssl` command, or it failed)."""


def _openssl(*args: str, cwd: Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise TlsSetupError("--tls needs the openssl command to make a throwaway CA")
    result = subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise TlsSetupError(f"openssl {args[0]} failed: {result.stderr.strip()[-300:]}")


def throwaway_tls(directory: Path) -> ServerTls:
    """A fresh CA and a server certificate signed by it, under `directory` (0700)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    (directory / "server.ext").write_text(_SUBJECT_NAMES)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=nautilus throwaway CA", "-keyout", "ca.key", "-out", "ca.pem",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", "server.ext", "-out", "server.pem",
        cwd=directory,
    )  # fmt: skip
    for name in ("ca.key", "server.csr", "server.ext", "ca.srl"):
        (directory / name).unlink(missing_ok=True)
    os.chmod(directory / "server.key", 0o600)
    return ServerTls(directory / "server.pem", directory / "server.key", directory / "ca.pem")
