#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""sink.py PORT DIR [options]: a scripted SMTP/LMTP server that keeps
what it accepts, for tests that need replies no real MTA gives on cue.

Each accepted message becomes DIR/N.eml (the DATA, dot-unstuffed, CRLF
kept) and DIR/N.env ("MAIL FROM:<a>" then one "RCPT TO:<b>" per line).
Options:
  --lmtp                  LHLO instead of EHLO; one reply per accepted
                          recipient after the final dot (RFC 2033 section 4.2)
  --rcpt-reply 'RE=REPLY' recipients matching RE get REPLY (repeatable;
                          first match wins), e.g. '^tempfail@=450 4.2.0 later'
  --data-reply 'REPLY'    answer every final dot with REPLY (nothing kept
                          unless REPLY starts with 2)
  --forbid-bare-lf        550 5.5.2 for a message with a bare LF
                          (RFC 5321 section 2.3.8)
  --idle-timeout S        exit after S seconds without a connection (60)
Logs every command and reply to stderr.
"""
import argparse
import os
import re
import socket
import socketserver
import sys
import threading
import time

lock = threading.Lock()
state = {"n": 0, "last": time.monotonic()}


def log(msg):
    sys.stderr.write("%s sink: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Session(socketserver.StreamRequestHandler):
    timeout = 60

    def say(self, line):
        log("> " + line)
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        a = self.server.args
        self.mail, self.rcpts = None, []
        self.say("220 sink.test ESMTP tern-test-sink")
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            with lock:
                state["last"] = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            log("< " + line)
            verb = line[:4].upper()
            if verb in ("EHLO", "LHLO", "HELO"):
                if (verb == "LHLO") != a.lmtp and verb != "HELO":
                    self.say("500 5.5.1 wrong greeting for this protocol")
                    continue
                self.say("250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME"
                         "\r\n250-SIZE 10240000\r\n250 ENHANCEDSTATUSCODES")
            elif verb == "MAIL":
                self.mail, self.rcpts = line[10:].strip(), []
                self.say("250 2.1.0 ok")
            elif verb == "RCPT":
                self.rcpt(line[8:].strip())
            elif verb == "DATA":
                if not self.rcpts:
                    self.say("503 5.5.1 no valid recipients")
                    continue
                self.say("354 go ahead")
                if not self.data():
                    return
            elif verb == "RSET":
                self.mail, self.rcpts = None, []
                self.say("250 2.0.0 ok")
            elif verb == "NOOP":
                self.say("250 2.0.0 ok")
            elif verb == "QUIT":
                self.say("221 2.0.0 bye")
                return
            else:
                self.say("502 5.5.2 not implemented")

    def rcpt(self, arg):
        addr = arg.split()[0].strip("<>") if arg else ""
        for rx, reply in self.server.args.rcpt_reply:
            if rx.search(addr):
                self.say(reply)
                return
        self.rcpts.append(arg.split()[0] if arg else "<>")
        self.say("250 2.1.5 ok")

    def data(self):
        body, bare = [], False
        while True:
            raw = self.rfile.readline(1 << 20)
            if not raw:
                return False
            if raw in (b".\r\n", b".\n"):
                break
            if not raw.endswith(b"\r\n") or b"\r" in raw[:-2]:
                bare = True
            body.append(raw[1:] if raw.startswith(b".") else raw)
        a = self.server.args
        if a.forbid_bare_lf and bare:
            reply = "550 5.5.2 bare LF received"
        elif a.data_reply:
            reply = a.data_reply
        else:
            reply = "250 2.0.0 queued as %d" % self.keep(b"".join(body))
        if reply.startswith("2") and a.data_reply:
            self.keep(b"".join(body))
        for _ in (self.rcpts if a.lmtp else [None]):
            self.say(reply)
        self.mail, self.rcpts = None, []
        return True

    def keep(self, data):
        with lock:
            state["n"] += 1
            n = state["n"]
        d = self.server.args.dir
        with open(os.path.join(d, "%d.eml.tmp" % n), "wb") as f:
            f.write(data)
        with open(os.path.join(d, "%d.env" % n), "w") as f:
            f.write("MAIL FROM:%s\n" % self.mail)
            for r in self.rcpts:
                f.write("RCPT TO:%s\n" % r)
        # Renamed last: a test counting *.eml never sees half a message.
        os.rename(os.path.join(d, "%d.eml.tmp" % n),
                  os.path.join(d, "%d.eml" % n))
        return n


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def rcpt_reply(s):
    rx, _, reply = s.partition("=")
    return re.compile(rx), reply


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("dir")
    p.add_argument("--lmtp", action="store_true")
    p.add_argument("--rcpt-reply", type=rcpt_reply, action="append",
                   default=[])
    p.add_argument("--data-reply")
    p.add_argument("--forbid-bare-lf", action="store_true")
    p.add_argument("--idle-timeout", type=float, default=60.0)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    srv = Server(("127.0.0.1", args.port), Session)
    srv.args = args
    srv.timeout = 0.2
    log("listening on 127.0.0.1:%d" % args.port)
    while time.monotonic() - state["last"] < args.idle_timeout:
        srv.handle_request()
    log("idle, exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
