#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""smtpsink.py --port P --dir DIR [options]: a minimal SMTP server for the
integration tests (stdlib only; smtpd is gone from Python 3.12). Every
accepted message is stored as DIR/<n>.eml (the data exactly as received
between DATA and the final dot, dot-unstuffed, CRLF kept) with DIR/<n>.env
(JSON {"from": ..., "to": [...], "helo": ...}), written to a temporary name
and renamed, so a file that exists is complete.

Options: --pipelining / --no-8bitmime (EHLO keywords), --reject-rcpt S and
--tempfail-rcpt S (550 / 450 to recipients containing S), --idle-timeout S
(exit when no session for S seconds; default 60), --hostname, --verbose.
"""
import argparse
import json
import os
import socket
import socketserver
import sys
import threading
import time

lock = threading.Lock()
state = {"n": 0, "active": 0, "last": time.monotonic()}
cfg = None


def log(msg):
	sys.stderr.write("%s smtpsink: %s\n" % (time.strftime("%H:%M:%S"), msg))
	sys.stderr.flush()


class Reader:
	"""Lines from a socket. TCP_QUICKACK before each recv: a relay such
	as fetchmail's ODMR pipe writes a body line by line, and Nagle on its
	side against delayed ACKs on ours would cost 40 ms per message."""

	def __init__(self, sock):
		self.sock = sock
		self.buf = b""

	def readline(self, cap):
		while True:
			i = self.buf.find(b"\n", 0, cap)
			if i >= 0 or len(self.buf) >= cap:
				n = i + 1 if i >= 0 else cap
				line, self.buf = self.buf[:n], self.buf[n:]
				return line
			try:
				self.sock.setsockopt(socket.IPPROTO_TCP,
				    socket.TCP_QUICKACK, 1)
			except (OSError, AttributeError):
				pass
			data = self.sock.recv(65536)
			if not data:
				line, self.buf = self.buf, b""
				return line
			self.buf += data


class Handler(socketserver.BaseRequestHandler):
	def out(self, line):
		if cfg.verbose:
			log("> " + line)
		self.request.sendall(line.encode() + b"\r\n")

	def ehlo(self, arg):
		kw = [cfg.hostname + " sink"]
		if not cfg.no_8bitmime:
			kw.append("8BITMIME")
		if cfg.pipelining:
			kw.append("PIPELINING")
		kw.append("HELP")
		self.out("\r\n".join("250%s%s" % ("-" if i < len(kw) - 1 else
		    " ", k) for i, k in enumerate(kw)))

	def data(self):
		"""Reads up to the final dot; returns the unstuffed bytes or None
		on EOF (RFC 5321 4.1.1.4, 4.5.2)."""
		parts = []
		while True:
			line = self.rfile.readline(1 << 20)
			if not line:
				return None
			if line == b".\r\n":
				return b"".join(parts)
			if line.startswith(b"."):
				line = line[1:]
			parts.append(line)

	def store(self, env, body):
		with lock:
			state["n"] += 1
			n = state["n"]
		p = os.path.join(cfg.dir, "%d" % n)
		with open(p + ".eml.tmp", "wb") as f:
			f.write(body)
		with open(p + ".env.tmp", "w") as f:
			json.dump(env, f)
		os.rename(p + ".eml.tmp", p + ".eml")
		os.rename(p + ".env.tmp", p + ".env")
		return n

	def session(self):
		self.rfile = Reader(self.request)
		self.out("220 %s ESMTP sink" % cfg.hostname)
		helo, env = "", None
		while True:
			raw = self.rfile.readline(65536)
			if not raw:
				return
			line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
			if cfg.verbose:
				log("< " + line)
			verb, _, arg = line.partition(" ")
			verb = verb.upper()
			if verb == "EHLO":
				helo, env = arg, None
				self.ehlo(arg)
			elif verb == "HELO":
				helo, env = arg, None
				self.out("250 %s" % cfg.hostname)
			elif verb == "MAIL" and arg.upper().startswith("FROM:"):
				if env is not None:
					self.out("503 5.5.1 nested MAIL")
					continue
				path = arg[5:].strip().split(" ")[0]
				env = {"from": path.strip("<>"), "to": [],
				    "helo": helo}
				self.out("250 2.1.0 OK")
			elif verb == "RCPT" and arg.upper().startswith("TO:"):
				rcpt = arg[3:].strip().split(" ")[0].strip("<>")
				if env is None:
					self.out("503 5.5.1 need MAIL")
				elif cfg.reject_rcpt and cfg.reject_rcpt in rcpt:
					self.out("550 5.1.1 no such user")
				elif cfg.tempfail_rcpt and cfg.tempfail_rcpt in rcpt:
					self.out("450 4.2.0 try later")
				else:
					env["to"].append(rcpt)
					self.out("250 2.1.5 OK")
			elif verb == "DATA":
				if env is None or not env["to"]:
					self.out("503 5.5.1 no valid recipients")
					continue
				self.out("354 go ahead")
				body = self.data()
				if body is None:
					log("EOF inside DATA: transaction dropped")
					return
				n = self.store(env, body)
				env = None
				self.out("250 2.0.0 OK stored as %d" % n)
			elif verb == "RSET":
				env = None
				self.out("250 2.0.0 OK")
			elif verb == "NOOP":
				self.out("250 2.0.0 OK")
			elif verb == "QUIT":
				self.out("221 2.0.0 bye")
				return
			else:
				self.out("502 5.5.1 not implemented")

	def handle(self):
		with lock:
			state["active"] += 1
		try:
			self.session()
		except OSError as e:
			log("session error: %s" % e)
		finally:
			with lock:
				state["active"] -= 1
				state["last"] = time.monotonic()


class Server(socketserver.ThreadingTCPServer):
	allow_reuse_address = True
	daemon_threads = True


def main(argv):
	global cfg
	p = argparse.ArgumentParser(description="minimal SMTP sink")
	p.add_argument("--port", type=int, required=True)
	p.add_argument("--dir", required=True)
	p.add_argument("--hostname", default="sink.test")
	p.add_argument("--pipelining", action="store_true")
	p.add_argument("--no-8bitmime", action="store_true")
	p.add_argument("--reject-rcpt")
	p.add_argument("--tempfail-rcpt")
	p.add_argument("--idle-timeout", type=float, default=60)
	p.add_argument("--verbose", "-v", action="store_true")
	cfg = p.parse_args(argv)
	os.makedirs(cfg.dir, exist_ok=True)
	srv = Server(("127.0.0.1", cfg.port), Handler)
	threading.Thread(target=srv.serve_forever, args=(0.2,),
	    daemon=True).start()
	log("listening on 127.0.0.1:%d" % cfg.port)
	while True:
		time.sleep(0.2)
		with lock:
			idle = state["active"] == 0 and \
			    time.monotonic() - state["last"] > cfg.idle_timeout
		if idle:
			log("idle, exiting")
			srv.shutdown()
			return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
