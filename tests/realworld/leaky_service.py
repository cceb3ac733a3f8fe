#!/usr/bin/python3
"""A Python service that leaks the way real ones do: every request adds
256 KiB to a module-level cache that is never trimmed, and opens an upstream
connection that is kept in a list and never closed (when the upstream hangs
up, the socket sits in CLOSE_WAIT). One request per connection: a line in,
"ok CACHED UPSTREAMS" out.

Usage: leaky_service.py PORT_FILE BACKEND_PORT"""
import os
import socket
import sys

CHUNK = 256 * 1024
cache = []
upstreams = []


def handle_request(backend_port):
    cache.append(bytearray(CHUNK))
    upstreams.append(socket.create_connection(("127.0.0.1", backend_port)))


def main():
    port_file, backend_port = sys.argv[1], int(sys.argv[2])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    # Renamed into place so a reader never sees half a line.
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = srv.accept()
        with conn:
            conn.recv(64)
            handle_request(backend_port)
            conn.sendall(b"ok %d %d\n" % (len(cache), len(upstreams)))


main()
