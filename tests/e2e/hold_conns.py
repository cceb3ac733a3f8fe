#!/usr/bin/env python3
"""hold_conns.py N PORT SRC: open N connections from address SRC to
127.0.0.1:PORT, send each half a request (headers never ended), print
"held N" and keep them until stdin closes: a careless or hostile client
of the exporter's HTTP side."""
import resource
import socket
import sys


def main():
    n, port, src = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 64)), hard))
    held = []
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: exporter\r\n")
        except OSError:
            pass  # refused or reset by the server: still one attempt
        held.append(s)
    print("held", n, flush=True)
    sys.stdin.read()


main()
