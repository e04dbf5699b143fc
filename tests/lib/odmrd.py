#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""odmrd.py: a test ODMR provider (RFC 2645, ATRN) for the integration
tests, stdlib only. Debian ships no ODMR server, so the suite has its own;
tests/integration/15-odmrd.sh proves it against fetchmail's ODMR mode.

Implemented from RFC 2645:
  - the three states of section 5: initial (EHLO, AUTH, QUIT), authenticated
    (ATRN, QUIT), reversed (the provider is the SMTP client);
  - EHLO lists AUTH and ATRN (5.1.1); AUTH is RFC 4954 with CRAM-MD5 (the
    MUST of 5.1.2), PLAIN and LOGIN (only under TLS unless
    --allow-plain-cleartext); 535 on bad credentials;
  - ATRN [domain *("," domain)] (5.2.1): no domains = all of the user's;
    530 before AUTH; 450 if any domain is not the user's (and nothing is
    sent for any of them); 451 when --busy or another session holds one of
    the domains; 453 "You have no mail"; otherwise 250 and the roles
    reverse on the same connection and TLS session (5.3): read the
    customer's 220, EHLO (HELO fallback), then MAIL/RCPT/DATA per held
    message (pipelined if the customer offers PIPELINING), QUIT;
  - the provider keeps responsibility (section 4): a message leaves the
    spool only after 250 to its final dot; 4xx keeps it held; a 5xx moves
    it to SPOOL/.refused/ (where a real provider would bounce it); 4xx
    recipients of an otherwise delivered message stay held.
Not implemented: bounces (DSN), retry schedules, rate limiting (450 for
rate), EXTERNAL/SCRAM, SIZE/DSN/SMTPUTF8/CHUNKING as a client, ATRN
address-literal checks, the option of 5.2.1 to answer 250 with no mail is
only there with --reverse-when-empty. STARTTLS (RFC 3207) and implicit TLS
(RFC 8314) are extras: RFC 2645 does not mention TLS.

Spool: SPOOL/<domain>/<id>.eml (the message, LF or CRLF line ends, sent
with CRLF, unstuffed) and SPOOL/<domain>/<id>.env (JSON {"from": ..., "to":
[...]}); a message exists once its .env exists. Ids sort in arrival order.
Fill it with:  odmrd.py --spool DIR --enqueue --from A --to B[,C] < msg
or in bulk:    odmrd.py --spool DIR --fill N --to rcpt@domain

Test faults: --drop-mid-message N (the Nth message this process sends is
cut off mid-body, once per process), --stop-after N (each reversed session
ends with QUIT after N messages), --one-line-per-record (one send, so one
TLS record, per line: fetchmail's pipe stalls otherwise), --no-quit.
Speed: TCP_NODELAY, and TCP_QUICKACK before each read so a customer that
writes its replies as separate small segments is not held 40 ms a message
by its Nagle against our delayed ACK (--no-quickack: a stock peer's timing).
Logs to stderr; exits after --idle-timeout seconds with no session.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time

MAXLINE = 4096          # command/reply line cap (RFC 5321 4.5.3.1.4: 512)


class ConnLost(Exception):
	pass


def log(sid, msg):
	sys.stderr.write("%s odmrd[%s]: %s\n" % (time.strftime("%H:%M:%S"),
	    sid, msg))
	sys.stderr.flush()


def domain_of(addr):
	return addr.rpartition("@")[2].lower()


class Spool:
	"""One directory per domain; see the module comment for the format."""

	def __init__(self, root):
		self.root = root
		self.seq = 0
		self.lock = threading.Lock()

	def _dir(self, domain):
		d = domain.lower()
		if not d or "/" in d or d.startswith("."):
			raise ValueError("bad domain %r" % domain)
		return os.path.join(self.root, d)

	def held(self, domain):
		try:
			names = os.listdir(self._dir(domain))
		except FileNotFoundError:
			return []
		return sorted(n[:-4] for n in names if n.endswith(".env"))

	def load(self, domain, mid):
		p = os.path.join(self._dir(domain), mid)
		with open(p + ".env") as f:
			env = json.load(f)
		with open(p + ".eml", "rb") as f:
			return env, f.read()

	def done(self, domain, mid):
		p = os.path.join(self._dir(domain), mid)
		os.unlink(p + ".env")           # the commit marker goes first
		os.unlink(p + ".eml")

	def refuse(self, domain, mid):
		d = os.path.join(self.root, ".refused", domain.lower())
		os.makedirs(d, exist_ok=True)
		p = os.path.join(self._dir(domain), mid)
		os.rename(p + ".eml", os.path.join(d, mid + ".eml"))
		os.rename(p + ".env", os.path.join(d, mid + ".env"))

	def rewrite(self, domain, mid, env):
		p = os.path.join(self._dir(domain), mid)
		with open(p + ".env.tmp", "w") as f:
			json.dump(env, f)
		os.rename(p + ".env.tmp", p + ".env")

	def add(self, sender, rcpts, body):
		"""One copy per recipient domain. Returns the ids written."""
		by = {}
		for r in rcpts:
			by.setdefault(domain_of(r), []).append(r)
		ids = []
		for dom, to in sorted(by.items()):
			d = self._dir(dom)
			os.makedirs(d, exist_ok=True)
			with self.lock:
				self.seq += 1
				mid = "%020d.%d.%06d" % (time.time_ns(), os.getpid(),
				    self.seq)
			p = os.path.join(d, mid)
			with open(p + ".eml", "wb") as f:
				f.write(body)
			with open(p + ".env.tmp", "w") as f:
				json.dump({"from": sender, "to": to}, f)
			os.rename(p + ".env.tmp", p + ".env")
			ids.append(mid)
		return ids


class Stats:
	def __init__(self, path):
		self.path = path
		self.lock = threading.Lock()
		self.d = {"delivered": 0, "refused": 0, "deferred": 0,
		    "dropped": 0, "sessions": 0, "reversed": 0, "auth_ok": 0,
		    "auth_failed": 0, "atrn": {}, "per_domain": {}}

	def count(self, key, domain=None, n=1):
		with self.lock:
			self.d[key] += n
			if domain is not None:
				pd = self.d["per_domain"].setdefault(domain, {
				    "delivered": 0, "refused": 0, "deferred": 0,
				    "dropped": 0})
				pd[key] += n

	def atrn(self, code):
		with self.lock:
			a = self.d["atrn"]
			a[str(code)] = a.get(str(code), 0) + 1

	def write(self):
		if not self.path:
			return
		with self.lock:
			tmp = self.path + ".tmp"
			with open(tmp, "w") as f:
				json.dump(self.d, f, indent=1, sort_keys=True)
			os.rename(tmp, self.path)


class Conn:
	"""A line-oriented socket, plain or TLS, with an input buffer."""

	def __init__(self, sock, sid, cfg):
		self.sock = sock
		self.sid = sid
		self.cfg = cfg
		self.buf = b""
		self.tls = isinstance(sock, ssl.SSLSocket)

	def readline(self, timeout):
		self.sock.settimeout(timeout)
		while True:
			i = self.buf.find(b"\n")
			if i >= 0:
				line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
				return line.rstrip(b"\r\n").decode("utf-8",
				    "replace")
			if len(self.buf) > MAXLINE:
				raise ConnLost("line too long")
			try:
				if self.cfg.quickack:
					self.sock.setsockopt(socket.IPPROTO_TCP,
					    socket.TCP_QUICKACK, 1)
				data = self.sock.recv(65536)
			except (OSError, ssl.SSLError) as e:
				raise ConnLost(str(e))
			if not data:
				raise ConnLost("EOF")
			self.buf += data

	def send(self, data):
		if isinstance(data, str):
			data = data.encode()
		try:
			if self.cfg.one_line_per_record:
				for line in data.splitlines(keepends=True):
					self.sock.sendall(line)
			else:
				self.sock.sendall(data)
		except (OSError, ssl.SSLError) as e:
			raise ConnLost(str(e))

	def reply(self, text):
		if self.cfg.verbose:
			log(self.sid, "> " + text.replace("\r\n", " | "))
		self.send(text + "\r\n")

	def read_reply(self, timeout):
		"""Returns (code, [lines]) of one possibly multiline reply."""
		lines = []
		while True:
			line = self.readline(timeout)
			lines.append(line)
			if len(line) < 4 or line[3] != "-":
				break
		try:
			code = int(lines[-1][:3])
		except ValueError:
			code = 0
		if self.cfg.verbose:
			log(self.sid, "< " + " | ".join(lines))
		return code, lines

	def starttls(self, ctx):
		# RFC 3207 4.2: anything that came with STARTTLS is discarded.
		if self.buf:
			log(self.sid, "discarding %d bytes sent after STARTTLS"
			    % len(self.buf))
			self.buf = b""
		self.sock.settimeout(self.cfg.timeout)
		self.sock = ctx.wrap_socket(self.sock, server_side=True)
		self.tls = True

	def close(self):
		try:
			self.sock.close()
		except OSError:
			pass


def load_users(path):
	users = {}
	if not path:
		return users
	with open(path) as f:
		for line in f:
			line = line.strip()
			if not line or line.startswith("#"):
				continue
			user, pw, doms = line.split(":", 2)
			users[user] = (pw, [d.strip().lower()
			    for d in doms.split(",") if d.strip()])
	return users


def b64(s):
	return base64.b64encode(s.encode()).decode()


def unb64(s):
	try:
		return base64.b64decode(s, validate=True).decode("utf-8")
	except (ValueError, UnicodeDecodeError):
		return None


class Session:
	"""One customer connection: the server states, then the reversal."""

	def __init__(self, srv, conn):
		self.srv = srv
		self.cfg = srv.cfg
		self.c = conn
		self.sid = conn.sid
		self.user = None

	# --- server side: initial and authenticated states (RFC 2645 5.1, 5.2)

	def mechs(self):
		m = [x for x in self.cfg.auth_mechs if x == "CRAM-MD5" or
		    self.c.tls or self.cfg.allow_plain_cleartext]
		return m

	def ehlo(self, arg):
		lines = [self.cfg.hostname + " ODMR provider"]
		if self.mechs():
			lines.append("AUTH " + " ".join(self.mechs()))
		lines.append("ATRN")
		if self.srv.tlsctx and not self.c.tls:
			lines.append("STARTTLS")
		lines += ["8BITMIME", "ENHANCEDSTATUSCODES"]
		self.c.reply("\r\n".join("250%s%s" % (
		    " " if i == len(lines) - 1 else "-", l)
		    for i, l in enumerate(lines)))

	def run(self):
		self.c.reply("220 %s ODMR ready" % self.cfg.hostname)
		while True:
			line = self.c.readline(self.cfg.timeout)
			if self.cfg.verbose:
				log(self.sid, "< " + (line if not
				    line.upper().startswith("AUTH ") else
				    line[:10] + "..."))
			verb, _, arg = line.partition(" ")
			verb = verb.upper()
			if verb in ("EHLO", "HELO"):
				self.ehlo(arg)
			elif verb == "QUIT":
				self.c.reply("221 2.0.0 bye")
				return
			elif verb in ("NOOP", "RSET"):
				self.c.reply("250 2.0.0 OK")
			elif verb == "STARTTLS":
				if not self.srv.tlsctx or self.c.tls:
					self.c.reply("502 5.5.1 no STARTTLS here")
					continue
				self.c.reply("220 2.0.0 go ahead")
				self.c.starttls(self.srv.tlsctx)
				self.user = None        # RFC 3207 4.2
			elif verb == "AUTH":
				self.auth(arg)
			elif verb == "ATRN":
				if self.atrn(arg):
					return
			elif verb in ("MAIL", "RCPT", "DATA", "VRFY", "ETRN",
			    "TURN", "EXPN", "HELP"):
				self.c.reply("502 5.5.1 not here (RFC 2645 5.4)")
			else:
				self.c.reply("500 5.5.2 unknown command")

	def auth(self, arg):
		if self.user is not None:
			return self.c.reply("503 5.5.1 already authenticated")
		if self.cfg.require_tls and not self.c.tls:
			return self.c.reply("530 5.7.0 must issue STARTTLS first")
		mech, _, ir = arg.strip().partition(" ")
		mech = mech.upper()
		if mech not in self.cfg.auth_mechs:
			return self.c.reply("504 5.5.4 unknown mechanism")
		if mech not in self.mechs():
			return self.c.reply("538 5.7.11 encryption required")
		try:
			user, pw = getattr(self, "auth_" + mech.replace("-", "_"))(ir)
		except ValueError as e:
			return self.c.reply("501 5.5.2 %s" % e)
		ent = self.srv.users.get(user)
		if ent and pw is True:
			ok = True
		elif ent and callable(pw):
			ok = pw(ent[0])
		else:
			ok = ent is not None and hmac.compare_digest(
			    ent[0].encode(), str(pw).encode())
		if not ok:
			self.srv.stats.count("auth_failed")
			log(self.sid, "AUTH %s failed for %r" % (mech, user))
			return self.c.reply("535 5.7.8 authentication failed")
		self.srv.stats.count("auth_ok")
		self.user = user
		log(self.sid, "AUTH %s ok: %s" % (mech, user))
		self.c.reply("235 2.7.0 authenticated")

	def ask(self, challenge):
		self.c.reply("334 " + challenge)
		r = self.c.readline(self.cfg.timeout)
		if r == "*":
			raise ValueError("authentication cancelled")
		return r

	def auth_CRAM_MD5(self, ir):
		if ir:
			raise ValueError("CRAM-MD5 takes no initial response")
		chal = "<%d.%d@%s>" % (int.from_bytes(os.urandom(4), "big"),
		    int(time.time()), self.cfg.hostname)
		r = unb64(self.ask(b64(chal)))
		if r is None or " " not in r:
			raise ValueError("bad CRAM-MD5 response")
		user, _, digest = r.rpartition(" ")

		def check(pw):
			want = hmac.new(pw.encode(), chal.encode(),
			    hashlib.md5).hexdigest()
			return hmac.compare_digest(want, digest.lower())
		return user, check

	def auth_PLAIN(self, ir):
		if not ir:
			ir = self.ask("")
		s = "" if ir == "=" else unb64(ir)
		if s is None or s.count("\0") != 2:
			raise ValueError("bad PLAIN response")
		authz, user, pw = s.split("\0")
		if authz and authz != user:
			return None, None           # no proxy authorisation
		return user, pw

	def auth_LOGIN(self, ir):
		user = unb64(ir) if ir else unb64(self.ask(b64("Username:")))
		pw = unb64(self.ask(b64("Password:")))
		if user is None or pw is None:
			raise ValueError("bad LOGIN response")
		return user, pw

	def atrn(self, arg):
		"""RFC 2645 5.2.1. True when the session is over."""
		if self.user is None:
			self.srv.stats.atrn(530)
			self.c.reply("530 5.7.0 authentication required")
			return False
		mine = self.srv.users[self.user][1]
		arg = arg.strip()
		want = [d.lower() for d in arg.split(",")] if arg else list(mine)
		if any(not d or d not in mine for d in want):
			self.srv.stats.atrn(450)
			log(self.sid, "ATRN %s refused for %s" % (arg, self.user))
			self.c.reply("450 4.7.1 ATRN request refused")
			return False
		if self.cfg.busy or not self.srv.lock_domains(want):
			self.srv.stats.atrn(451)
			self.c.reply("451 4.3.0 unable to process ATRN request now")
			return False
		try:
			held = sum(len(self.srv.spool.held(d)) for d in want)
			if held == 0 and not self.cfg.reverse_when_empty:
				self.srv.stats.atrn(453)
				self.c.reply("453 4.3.0 You have no mail")
				return False
			self.srv.stats.atrn(250)
			log(self.sid, "ATRN %s: %d held, reversing" %
			    (",".join(want), held))
			self.c.reply("250 2.0.0 OK now reversing the connection")
			self.srv.stats.count("reversed")
			Client(self, want).run()
			return True
		finally:
			self.srv.unlock_domains(want)


def wire(body):
	"""CRLF line ends, a final CRLF, dot-stuffing, the end-of-data dot
	(RFC 5321 4.1.1.4, 4.5.2)."""
	b = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
	if b and not b.endswith(b"\r\n"):
		b += b"\r\n"
	return re.sub(rb"(?m)^\.", b"..", b) + b".\r\n"


class Client:
	"""The reversed state (RFC 2645 5.3): we are the SMTP client."""

	def __init__(self, sess, domains):
		self.c = sess.c
		self.srv = sess.srv
		self.cfg = sess.cfg
		self.sid = sess.sid
		self.domains = domains
		self.caps = set()
		self.n = {"delivered": 0, "deferred": 0, "refused": 0}

	def cmd(self, line):
		self.c.reply(line)
		return self.c.read_reply(self.cfg.timeout)

	def run(self):
		t0 = time.monotonic()
		try:
			code, _ = self.c.read_reply(self.cfg.timeout)
			if code != 220:
				log(self.sid, "customer greeted with %d" % code)
				self.cmd("QUIT")
				return
			code, lines = self.cmd("EHLO " + self.cfg.hostname)
			if code == 250:
				self.caps = {l[4:].split(" ")[0].upper()
				    for l in lines[1:] if len(l) > 4}
			elif self.cmd("HELO " + self.cfg.hostname)[0] != 250:
				self.cmd("QUIT")
				return
			if not self.deliver_all():
				return                  # connection dropped
			if self.cfg.no_quit:
				log(self.sid, "closing without QUIT (--no-quit)")
			else:
				self.c.reply("QUIT")
				try:
					self.c.read_reply(min(self.cfg.timeout, 10))
				except ConnLost:
					pass
		except ConnLost as e:
			log(self.sid, "reversed session lost: %s" % e)
		finally:
			log(self.sid, "reversed session: %d delivered, %d deferred, "
			    "%d refused in %.2fs" % (self.n["delivered"],
			    self.n["deferred"], self.n["refused"],
			    time.monotonic() - t0))

	def deliver_all(self):
		done = 0
		for d in self.domains:
			for mid in self.srv.spool.held(d):
				if self.cfg.stop_after and \
				    done >= self.cfg.stop_after:
					log(self.sid, "stopping after %d (--stop-after)"
					    % done)
					return True
				done += 1
				if not self.one(d, mid):
					return False
		return True

	def one(self, dom, mid):
		"""One held message. False when the connection was cut."""
		env, body = self.srv.spool.load(dom, mid)
		rcpts = [r for r in env["to"] if domain_of(r) in self.domains]
		eight = re.search(rb"[\x80-\xff]", body) is not None
		mail = "MAIL FROM:<%s>" % env["from"]
		if eight and "8BITMIME" in self.caps:
			mail += " BODY=8BITMIME"
		cmds = [mail] + ["RCPT TO:<%s>" % r for r in rcpts] + ["DATA"]
		if "PIPELINING" in self.caps and not self.cfg.no_pipelining \
		    and not self.cfg.one_line_per_record:
			self.c.send("".join(x + "\r\n" for x in cmds))
			rep = [self.c.read_reply(self.cfg.timeout)[0] for x in cmds]
		else:
			rep = [self.cmd(mail)[0]]
			if rep[0] // 100 == 2:
				for r in rcpts:
					rep.append(self.cmd("RCPT TO:<%s>" % r)[0])
				if any(x // 100 == 2 for x in rep[1:]):
					rep.append(self.cmd("DATA")[0])
		mcode, rcodes = rep[0], rep[1:1 + len(rcpts)]
		dcode = rep[1 + len(rcpts)] if len(rep) > 1 + len(rcpts) else 0
		ok = [r for r, x in zip(rcpts, rcodes) if x // 100 == 2]
		final = 0
		if dcode == 354:
			if not ok:                      # RFC 2920 3.1: end it empty
				self.cmd(".")
			else:
				final = self.body(wire(body), dom)
				if final is None:
					return False
		return self.outcome(dom, mid, env, rcpts, mcode, rcodes, ok,
		    dcode, final)

	def body(self, data, dom):
		with self.srv.lock:
			self.srv.nsent += 1
			nth = self.srv.nsent
		if nth == self.cfg.drop_mid_message:
			cut = max(1, (len(data) - 3) // 2)
			self.c.send(data[:cut])
			log(self.sid, "FAULT: dropping the connection after %d of "
			    "%d body bytes of message %d" % (cut, len(data), nth))
			self.srv.stats.count("dropped", dom)
			self.c.close()
			return None
		self.c.send(data)
		return self.c.read_reply(self.cfg.timeout)[0]

	def outcome(self, dom, mid, env, rcpts, mcode, rcodes, ok, dcode,
	    final):
		"""Per recipient: delivered, temporary or permanent failure."""
		def cls(x):
			return 5 if x // 100 == 5 else 4
		temp, perm = [], []
		for i, r in enumerate(rcpts):
			x = rcodes[i] if i < len(rcodes) else 0
			if mcode // 100 != 2:
				bad = cls(mcode)
			elif x // 100 != 2:
				bad = cls(x)
			elif dcode != 354:
				bad = cls(dcode)
			elif final // 100 != 2:
				bad = cls(final)
			else:
				continue
			(temp if bad == 4 else perm).append(r)
		delivered = len(temp) + len(perm) < len(rcpts)
		spool, st = self.srv.spool, self.srv.stats
		if not delivered:
			self.cmd("RSET")
		if temp and (delivered or perm):
			env = dict(env, to=temp)    # keep responsibility for these
			spool.rewrite(dom, mid, env)
		if delivered:
			self.n["delivered"] += 1
			st.count("delivered", dom)
			if not temp:
				spool.done(dom, mid)
		elif temp:
			self.n["deferred"] += 1
			st.count("deferred", dom)
		else:
			self.n["refused"] += 1
			st.count("refused", dom)
			spool.refuse(dom, mid)
		if perm:
			log(self.sid, "%s/%s: refused for %s" % (dom, mid,
			    ",".join(perm)))
		return True


class Server:
	def __init__(self, cfg):
		self.cfg = cfg
		self.users = load_users(cfg.users)
		self.spool = Spool(cfg.spool)
		self.stats = Stats(cfg.stats)
		self.lock = threading.Lock()
		self.inuse = set()
		self.active = 0
		self.nsent = 0
		self.nconn = 0
		self.last = time.monotonic()
		self.tlsctx = None
		if cfg.tls_cert:
			ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
			ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
			self.tlsctx = ctx

	def lock_domains(self, ds):
		"""One reversed session per domain at a time; else 451."""
		with self.lock:
			if self.inuse & set(ds):
				return False
			self.inuse |= set(ds)
			return True

	def unlock_domains(self, ds):
		with self.lock:
			self.inuse -= set(ds)

	def handle(self, sock, sid):
		conn = None
		try:
			sock.settimeout(self.cfg.timeout)
			# Our writes are whole commands or batches already; Nagle
			# would only hold back --one-line-per-record lines.
			sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
			if self.cfg.implicit_tls:
				sock = self.tlsctx.wrap_socket(sock, server_side=True)
			conn = Conn(sock, sid, self.cfg)
			Session(self, conn).run()
		except ConnLost as e:
			log(sid, "connection lost: %s" % e)
		except (OSError, ssl.SSLError, ValueError) as e:
			log(sid, "session failed: %s" % e)
		finally:
			(conn or Conn(sock, sid, self.cfg)).close()
			with self.lock:
				self.active -= 1
				self.last = time.monotonic()
			self.stats.write()
			log(sid, "closed")

	def serve(self):
		ls = socket.socket(socket.AF_INET6 if ":" in self.cfg.listen
		    else socket.AF_INET)
		ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		ls.bind((self.cfg.listen, self.cfg.port))
		ls.listen(64)
		ls.settimeout(0.2)
		log("-", "listening on %s:%d%s" % (self.cfg.listen, self.cfg.port,
		    " (implicit TLS)" if self.cfg.implicit_tls else ""))
		while True:
			try:
				sock, addr = ls.accept()
			except socket.timeout:
				with self.lock:
					idle = self.active == 0 and time.monotonic() - \
					    self.last > self.cfg.idle_timeout
				if idle:
					log("-", "idle for %ds, exiting" %
					    self.cfg.idle_timeout)
					return
				continue
			with self.lock:
				self.active += 1
				self.nconn += 1
				sid = str(self.nconn)
			self.stats.count("sessions")
			log(sid, "connection from %s:%d" % addr[:2])
			threading.Thread(target=self.handle, args=(sock, sid),
			    daemon=True).start()


def fill(spool, cfg):
	"""--fill N: N small messages, with a dot line and 8-bit text."""
	for i in range(cfg.fill):
		body = ("From: <%s>\r\nTo: <%s>\r\nSubject: held %d\r\n"
		    "Message-ID: <held%d.%d@provider.test>\r\n\r\n"
		    "message %d\r\n.a dot line\r\n8-bit: \u00e9t\u00e9\r\n" % (
		    cfg.sender, cfg.to, i, i, os.getpid(), i)).encode()
		spool.add(cfg.sender, cfg.to.split(","), body)


def parse(argv):
	p = argparse.ArgumentParser(description="test ODMR provider "
	    "(RFC 2645)")
	a = p.add_argument
	a("--port", type=int, default=366)
	a("--listen", default="127.0.0.1")
	a("--hostname", default="provider.test")
	a("--tls-cert")
	a("--tls-key")
	a("--implicit-tls", action="store_true")
	a("--require-tls", action="store_true",
	    help="530 to AUTH before STARTTLS")
	a("--allow-plain-cleartext", action="store_true")
	a("--auth-mechs", default="CRAM-MD5,PLAIN,LOGIN")
	a("--users")
	a("--spool", required=True)
	a("--stats")
	a("--idle-timeout", type=float, default=60)
	a("--timeout", type=float, default=60, help="per command/reply")
	a("--busy", action="store_true", help="451 to every ATRN")
	a("--reverse-when-empty", action="store_true",
	    help="250 even with no mail, then EHLO and QUIT (RFC 2645 5.2.1)")
	a("--drop-mid-message", type=int, default=0)
	a("--stop-after", type=int, default=0)
	a("--one-line-per-record", action="store_true")
	a("--no-pipelining", action="store_true")
	a("--no-quit", action="store_true")
	a("--no-quickack", dest="quickack", action="store_false",
	    help="delayed ACKs as a stock peer has them")
	a("--verbose", "-v", action="store_true")
	a("--enqueue", action="store_true",
	    help="add stdin as one message (--from, --to) and exit")
	a("--fill", type=int, default=0, help="add N messages and exit")
	a("--from", dest="sender", default="sender@provider.test")
	a("--to", default="")
	cfg = p.parse_args(argv)
	cfg.auth_mechs = [m.strip().upper() for m in cfg.auth_mechs.split(",")]
	if not set(cfg.auth_mechs) <= {"CRAM-MD5", "PLAIN", "LOGIN"}:
		p.error("--auth-mechs: CRAM-MD5, PLAIN and LOGIN only")
	if (cfg.enqueue or cfg.fill) and not cfg.to:
		p.error("--enqueue and --fill need --to")
	if cfg.implicit_tls and not cfg.tls_cert:
		p.error("--implicit-tls needs --tls-cert")
	if cfg.tls_cert and not cfg.tls_key:
		cfg.tls_key = cfg.tls_cert
	return cfg


def main(argv):
	cfg = parse(argv)
	spool = Spool(cfg.spool)
	if cfg.enqueue:
		ids = spool.add(cfg.sender, cfg.to.split(","),
		    sys.stdin.buffer.read())
		print("\n".join(ids))
		return 0
	if cfg.fill:
		fill(spool, cfg)
		return 0
	os.makedirs(cfg.spool, exist_ok=True)
	srv = Server(cfg)

	def term(sig, frame):
		raise SystemExit(0)
	signal.signal(signal.SIGTERM, term)
	try:
		srv.serve()
	except KeyboardInterrupt:
		pass
	finally:
		srv.stats.write()
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
