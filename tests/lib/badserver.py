#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""badserver.py PORT MODE [--idle-timeout S]: an SMTP server that
misbehaves on cue, for the fault tests (stdlib only). Each connection
gets the same misbehaviour:

  close        accept, then close at once (no greeting; a client that
               expects implicit TLS sees its handshake fail)
  greet421     "421 4.3.2 shutting down" as the greeting, then close
               (RFC 5321 section 3.1)
  garbage      a normal greeting, then a line that is no reply at all
               ("hello? \\x01\\xff...") to EHLO and to everything after
  badcode      a normal greeting, then "2x5 what" to EHLO
  longline     a greeting line of 100 KB (RFC 5321 section 4.5.3.1.5
               caps a reply line at 512 octets)
  longehlo     a normal greeting, then a 100 KB line as the EHLO reply
  silent       a normal greeting, then nothing more (held open)

Each connection is counted in the log as "conn N"; the process exits
after --idle-timeout seconds without a connection.
"""
import argparse
import socket
import sys
import threading
import time

GREETING = b"220 bad.test ESMTP tern-test-badserver\r\n"
state = {"n": 0, "last": time.monotonic()}
lock = threading.Lock()


def log(msg):
    sys.stderr.write("%s badserver: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def readline(c):
    buf = b""
    while not buf.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            return None
        buf += b
    return buf


def serve(c, mode):
    if mode == "close":
        return
    if mode == "greet421":
        c.sendall(b"421 4.3.2 bad.test shutting down\r\n")
        return
    if mode == "longline":
        c.sendall(b"220 " + b"x" * 102400 + b"\r\n")
        readline(c)
        return
    c.sendall(GREETING)
    while True:
        line = readline(c)
        if line is None:
            return
        log("< %r" % line[:80])
        if mode == "garbage":
            c.sendall(b"hello? \x01\xff not smtp\r\n")
        elif mode == "badcode":
            c.sendall(b"2x5 what\r\n")
        elif mode == "longehlo":
            c.sendall(b"250-" + b"y" * 102400 + b"\r\n250 OK\r\n")
        elif mode == "silent":
            time.sleep(3600)


def handle(c, mode, n):
    try:
        serve(c, mode)
    except OSError as e:
        log("conn %d: %s" % (n, e))
    finally:
        c.close()
        log("conn %d closed" % n)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("mode", choices=["close", "greet421", "garbage",
                                    "badcode", "longline", "longehlo",
                                    "silent"])
    p.add_argument("--idle-timeout", type=float, default=120.0)
    a = p.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.port))
    s.listen(16)
    s.settimeout(1.0)
    log("listening on 127.0.0.1:%d mode %s" % (a.port, a.mode))
    while time.monotonic() - state["last"] < a.idle_timeout:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        with lock:
            state["n"] += 1
            state["last"] = time.monotonic()
            n = state["n"]
        log("conn %d" % n)
        threading.Thread(target=handle, args=(c, a.mode, n),
                         daemon=True).start()


if __name__ == "__main__":
    main()
