"""A raw socket to the engine, for sending what a well-behaved client never would."""

from __future__ import annotations

import socket

from inbetween_client.connection import ConnectionInfo
from inbetween_client.protocol import Message, read_message, write_message


class RawConnection:
    def __init__(self, info: ConnectionInfo) -> None:
        self.info = info
        self.sock = socket.create_connection((info.host, info.port), timeout=10)

    def hello(self, token: str | None = None) -> Message:
        self.send(Message("hello", {"token": self.info.token if token is None else token, "protocol": 1}))
        return self.read()

    def send(self, msg: Message) -> None:
        write_message(self.sock, msg)

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> Message:
        return read_message(self.sock)

    def is_closed_by_peer(self) -> bool:
        """True once the engine closed the connection (reads EOF)."""
        try:
            self.sock.settimeout(10)
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self) -> None:
        self.sock.close()
