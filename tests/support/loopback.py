"""Free ports on loopback addresses, for servers a test starts."""

from __future__ import annotations

import socket


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(candidates: range, host: str = "127.0.0.1") -> int:
    for port in candidates:
        if port_is_free(host, port):
            return port
    raise RuntimeError(f"no free port on {host} in {candidates}")
