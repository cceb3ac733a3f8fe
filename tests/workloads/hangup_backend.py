#!/usr/bin/env python3
"""A loopback backend that hangs up at once: it accepts on N ports (chosen
by the kernel, written one a line to PORT_FILE) and closes every connection
right away, so a client that keeps its socket sees it sit in CLOSE_WAIT.
Usage: hangup_backend.py N PORT_FILE"""
import os
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
ports = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    sel.register(s, selectors.EVENT_READ)
    ports.append(s.getsockname()[1])
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("".join("%d\n" % p for p in ports))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    for key, _ in sel.select():
        conn, _ = key.fileobj.accept()
        conn.close()
