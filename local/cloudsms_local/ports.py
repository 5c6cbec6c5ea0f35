"""Free loopback ports for the local stack's servers."""

import socket
from contextlib import ExitStack


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now. Each is held until all are chosen:
    a port taken and let go at once may be handed out again by the next call (two of
    Kannel's four ports once came out the same, and bearerbox could not start)."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    return free_ports(1)[0]
