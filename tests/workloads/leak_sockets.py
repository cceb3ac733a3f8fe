"""Opens sockets from one line of a function, in a thread of its own (the
tracer must find that thread's frames, not the main thread's), and keeps
them open. Waits for GO_FILE to exist before it starts (a tracer attaches
first), writes DONE_FILE when the sockets are open, then sleeps until
killed. Runs on CPython 3.8 and later.

Usage: leak_sockets.py GO_FILE DONE_FILE COUNT"""
import os
import socket
import sys
import threading
import time

held = []


def open_sockets(n):
    for _ in range(n):
        held.append(socket.socket())  # the creating line
    return len(held)


def worker(n, done_file):
    open_sockets(n)  # the calling line
    with open(done_file, "w") as f:
        f.write("%d\n" % len(held))


def main(go_file, done_file, n):
    while not os.path.exists(go_file):
        time.sleep(0.05)
    t = threading.Thread(target=worker, args=(n, done_file))
    t.start()
    t.join()
    time.sleep(3600)


main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
