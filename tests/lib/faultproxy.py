#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""faultproxy.py LISTEN_PORT TARGET_HOST TARGET_PORT [options]

A TCP proxy on 127.0.0.1 that injects one fault per connection, for the
integration tests (stdlib only). Client->server faults:

  --drop-on RE            close both sides just before forwarding the first
                          bytes matching RE (e.g. '\\r\\n\\.\\r\\n': the client
                          sent the whole body but the server never sees the
                          final dot, RFC 5321 section 4.1.1.4)
  --drop-after-bytes N    close after forwarding N bytes (counted from the
                          end of the first --count-from RE match if given,
                          e.g. --count-from 'DATA\\r\\n': N body bytes)
  --stall-on RE / --stall-after-bytes N
                          the same trigger, but then forward nothing more in
                          either direction and hold the connection open
  --stall                 never connect to the target: hold the client
                          with no greeting at all
Server->client faults (a reply lost on the way back):
  --drop-reply-on RE / --stall-reply-on RE
Modifiers: --reset (RST instead of FIN to the client), --stall-seconds S,
--fault-connections K (only the first K connections are faulty; later
ones pass through; 0 = all), --fault-nth N (only connection N),
--idle-timeout S (exit when no connection has had traffic for S seconds).
REs are Python bytes regexes, multiline, searched over the stream so far.
Each fault is logged to stderr as a line starting "FAULT".
"""
import argparse
import re
import select
import socket
import struct
import sys
import threading
import time

WINDOW = 65536          # how far back a match may start in the history
last_activity = time.monotonic()
active = 0
lock = threading.Lock()


def log(msg):
    sys.stderr.write("%s faultproxy: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def touch():
    global last_activity
    last_activity = time.monotonic()


class Direction:
    """One direction's trigger: returns (bytes to forward, fault or None)."""

    def __init__(self, name, action, regex=None, nbytes=None, count_from=None):
        self.name = name
        self.action = action            # None, "drop" or "stall"
        self.regex = regex
        self.nbytes = nbytes
        self.count_from = count_from
        self.hist = b""                 # tail of the stream so far
        self.base = 0                   # stream offset of hist[0]
        self.fwd = 0                    # stream bytes forwarded so far
        self.count_start = None if count_from is not None else 0

    def feed(self, data):
        if self.action is None:
            return data, None
        end = self.fwd + len(data)
        self.hist += data
        if len(self.hist) > 4 * WINDOW:
            cut = len(self.hist) - 2 * WINDOW
            self.hist = self.hist[cut:]
            self.base += cut
        cut_at = None
        lo = max(0, self.fwd - self.base - WINDOW)
        if self.count_start is None:
            m = self.count_from.search(self.hist, lo)
            if m:
                self.count_start = self.base + m.end()
        if self.regex is not None:
            for m in self.regex.finditer(self.hist, lo):
                if self.base + m.end() > self.fwd:
                    cut_at = max(self.fwd, self.base + m.start())
                    break
        if self.nbytes is not None and self.count_start is not None:
            lim = self.count_start + self.nbytes
            if lim < end and (cut_at is None or lim < cut_at):
                cut_at = max(self.fwd, lim)
        if cut_at is None:
            self.fwd = end
            return data, None
        out = data[:cut_at - self.fwd]
        self.fwd = cut_at
        return out, "%s %s at stream byte %d" % (self.action, self.name,
                                                 cut_at)


def close(s, reset=False):
    try:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass


def hold(client, secs, n):
    """A stalled connection: read and discard until the client goes or
    the stall ends."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        r, _, _ = select.select([client], [], [], 0.2)
        if r:
            try:
                if not client.recv(65536):
                    break
            except OSError:
                break
        touch()
    log("conn %d: stall over" % n)


def pump(client, args, faulty, n):
    if faulty and args.stall:
        log("FAULT conn %d: stall before connecting" % n)
        hold(client, args.stall_seconds, n)
        return
    try:
        server = socket.create_connection((args.target_host, args.target_port),
                                          timeout=5)
    except OSError as e:
        log("conn %d: target: %s" % (n, e))
        return
    dirs = {}
    if faulty:
        c_act = "stall" if (args.stall_on or args.stall_after_bytes is not None) \
            else ("drop" if (args.drop_on or args.drop_after_bytes is not None)
                  else None)
        c_re = args.stall_on or args.drop_on
        c_n = args.stall_after_bytes if args.stall_after_bytes is not None \
            else args.drop_after_bytes
        s_act = "stall" if args.stall_reply_on else \
            ("drop" if args.drop_reply_on else None)
        s_re = args.stall_reply_on or args.drop_reply_on
    else:
        c_act = s_act = c_re = s_re = c_n = None
    cf = args.count_from
    dirs[client] = (server, Direction("client->server", c_act, c_re, c_n, cf))
    dirs[server] = (client, Direction("server->client", s_act, s_re))
    try:
        while True:
            r, _, _ = select.select([client, server], [], [],
                                    args.idle_timeout)
            if not r:
                log("conn %d: idle, closing" % n)
                return
            touch()
            for s in r:
                data = s.recv(65536)
                if not data:
                    log("conn %d: %s closed" % (n, "client" if s is client
                                                else "server"))
                    return
                other, d = dirs[s]
                out, fault = d.feed(data)
                if out:
                    other.sendall(out)
                if fault is None:
                    continue
                log("FAULT conn %d: %s" % (n, fault))
                if fault.startswith("stall"):
                    hold(client, args.stall_seconds, n)
                    return
                close(client, args.reset)
                return
    except OSError as e:
        log("conn %d: %s" % (n, e))
    finally:
        close(server)


def serve(client, args, faulty, n):
    global active
    try:
        pump(client, args, faulty, n)
    finally:
        close(client)
        with lock:
            active -= 1
        touch()


def rx(s):
    return re.compile(s.encode(), re.MULTILINE) if s is not None else None


def main():
    global active
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("listen_port", type=int)
    p.add_argument("target_host")
    p.add_argument("target_port", type=int)
    p.add_argument("--listen-host", default="127.0.0.1")
    p.add_argument("--drop-on", type=rx)
    p.add_argument("--drop-after-bytes", type=int)
    p.add_argument("--stall-on", type=rx)
    p.add_argument("--stall-after-bytes", type=int)
    p.add_argument("--stall", action="store_true")
    p.add_argument("--drop-reply-on", type=rx)
    p.add_argument("--stall-reply-on", type=rx)
    p.add_argument("--count-from", type=rx)
    p.add_argument("--reset", action="store_true")
    p.add_argument("--stall-seconds", type=float)
    p.add_argument("--fault-connections", type=int, default=0)
    p.add_argument("--fault-nth", type=int, default=0)
    p.add_argument("--idle-timeout", type=float, default=30.0)
    args = p.parse_args()
    if args.stall_seconds is None:
        args.stall_seconds = args.idle_timeout

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.listen_host, args.listen_port))
    ls.listen(16)
    ls.settimeout(0.2)
    log("listening on %s:%d -> %s:%d" % (args.listen_host, args.listen_port,
                                         args.target_host, args.target_port))
    n = 0
    while True:
        try:
            client, _ = ls.accept()
        except socket.timeout:
            with lock:
                idle = active == 0 and \
                    time.monotonic() - last_activity > args.idle_timeout
            if idle:
                log("idle for %gs, exiting" % args.idle_timeout)
                return 0
            continue
        n += 1
        touch()
        if args.fault_nth:
            faulty = n == args.fault_nth
        else:
            faulty = args.fault_connections == 0 or n <= args.fault_connections
        log("conn %d: accepted (%s)" % (n, "faulty" if faulty else "clean"))
        with lock:
            active += 1
        threading.Thread(target=serve, args=(client, args, faulty, n),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
