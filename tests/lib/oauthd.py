# SPDX-License-Identifier: ISC
"""oauthd.py: an HTTPS OAuth2 server for the integration tests.

    python3 oauthd.py PORT CERT KEY

Endpoints (all POST, application/x-www-form-urlencoded):
  /token       RFC 6749 §6 refresh_token grant; RFC 8628 §3.4 device_code
  /device      RFC 8628 §3.1 device authorization
  /introspect  RFC 7662 (for Dovecot's oauth2 passdb, introspection_mode=post)
Control (GET /admin?op=...&..., answers JSON):
  add_refresh token= user=    a valid refresh token for user
  set rotate=0|1 access_life=S client_secret=X   behaviour of /token
  expire_all                  every access token issued so far lapses
  revoke token=               a refresh token and its access tokens die
  fail mode=500|garbage count=N   the next N /token requests fail so
  device script=pending,pending,ok interval=S   what device polls get:
                              pending, slow_down, denied, expired, ok
  stats                       counters, live refresh tokens, every token
                              issued (so a test can grep logs for them)
Prints "listening on 127.0.0.1:PORT" once it accepts connections.
"""
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
S = {
    "rotate": False, "access_life": 3600, "client_id": "tern-test",
    "client_secret": None,
    "refresh": {},      # token -> {"user", "active"}
    "access": {},       # token -> {"user", "exp", "rt"}
    "fail": [],         # pending failure modes for /token
    "script": ["ok"], "interval": 1,
    "device": {},       # device_code -> {"step": n, "polls": [times]}
    "issued": [],       # every secret handed out
    "n": {"refresh": 0, "device": 0, "poll": 0, "introspect": 0,
          "introspect_ok": 0},
    "last_scope": None, "poll_times": [],
}


def new_token(prefix):
    t = prefix + secrets.token_urlsafe(24)
    S["issued"].append(t)
    return t


def issue(user, rt, with_refresh):
    at = new_token("at-")
    S["access"][at] = {"user": user, "exp": time.time() + S["access_life"],
                       "rt": rt}
    r = {"access_token": at, "token_type": "Bearer",
         "expires_in": S["access_life"]}
    if with_refresh:
        r["refresh_token"] = with_refresh
    return r


def err(code, desc=None):
    d = {"error": code}
    if desc:
        d["error_description"] = desc
    return 400, d


def grant_refresh(f):
    S["n"]["refresh"] += 1
    if S["fail"]:
        mode = S["fail"].pop(0)
        if mode == "500":
            return 500, {"error": "server_error"}
        return 200, b"<html>this is not json"
    if f.get("client_id") != S["client_id"]:
        return 401, {"error": "invalid_client"}
    if S["client_secret"] and f.get("client_secret") != S["client_secret"]:
        return 401, {"error": "invalid_client",
                     "error_description": "bad client secret"}
    rt = f.get("refresh_token", "")
    info = S["refresh"].get(rt)
    if not info or not info["active"]:
        return err("invalid_grant", "Token has been expired or revoked.")
    info["used"] = time.time()
    new_rt = None
    if S["rotate"]:
        info["active"] = False
        new_rt = new_token("rt-")
        S["refresh"][new_rt] = {"user": info["user"], "active": True}
    return 200, issue(info["user"], new_rt or rt, new_rt)


def grant_device(f):
    S["n"]["poll"] += 1
    S["poll_times"].append(time.time())
    d = S["device"].get(f.get("device_code", ""))
    if d is None:
        return err("invalid_grant", "unknown device code")
    step = S["script"][min(d["step"], len(S["script"]) - 1)]
    d["step"] += 1
    if step == "pending":
        return err("authorization_pending")
    if step == "slow_down":
        return err("slow_down")
    if step == "denied":
        return err("access_denied", "The user declined.")
    if step == "expired":
        return err("expired_token")
    rt = new_token("rt-")
    S["refresh"][rt] = {"user": "alice", "active": True}
    return 200, issue("alice", rt, rt)


def device(f):
    S["n"]["device"] += 1
    if f.get("client_id") != S["client_id"]:
        return 401, {"error": "invalid_client"}
    S["last_scope"] = f.get("scope")
    dc = new_token("dc-")
    S["device"][dc] = {"step": 0}
    return 200, {"device_code": dc, "user_code": "WDJB-MJHT",
                 "verification_uri": "https://127.0.0.1/activate",
                 "verification_uri_complete":
                     "https://127.0.0.1/activate?user_code=WDJB-MJHT",
                 "expires_in": 600, "interval": S["interval"]}


def introspect(f):
    S["n"]["introspect"] += 1
    a = S["access"].get(f.get("token", ""))
    rt = S["refresh"].get(a["rt"]) if a else None
    if not a or a["exp"] < time.time() or (rt is not None and
                                           rt.get("revoked")):
        return 200, {"active": False}
    S["n"]["introspect_ok"] += 1
    return 200, {"active": True, "username": a["user"],
                 "email": a["user"], "exp": int(a["exp"]),
                 "scope": "smtp"}


def admin(q):
    op = q.get("op")
    if op == "add_refresh":
        S["refresh"][q["token"]] = {"user": q.get("user", "alice"),
                                    "active": True}
    elif op == "set":
        if "rotate" in q:
            S["rotate"] = q["rotate"] == "1"
        if "access_life" in q:
            S["access_life"] = int(q["access_life"])
        if "client_secret" in q:
            S["client_secret"] = q["client_secret"] or None
    elif op == "expire_all":
        for a in S["access"].values():
            a["exp"] = 0
    elif op == "revoke":
        r = S["refresh"].get(q["token"])
        if r:
            r["active"] = False
            r["revoked"] = True
    elif op == "fail":
        S["fail"] = [q.get("mode", "500")] * int(q.get("count", "1"))
    elif op == "device":
        S["script"] = q.get("script", "ok").split(",")
        S["interval"] = int(q.get("interval", "1"))
        S["poll_times"] = []
    elif op != "stats":
        return 400, {"error": "unknown op"}
    return 200, {"n": S["n"], "rotate": S["rotate"],
                 "live_refresh": [k for k, v in S["refresh"].items()
                                  if v["active"]],
                 "issued": S["issued"], "last_scope": S["last_scope"],
                 "poll_times": S["poll_times"]}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/admin":
            return self.reply(404, {"error": "not found"})
        q = dict(urllib.parse.parse_qsl(u.query))
        with LOCK:
            self.reply(*admin(q))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("ascii", "replace")
        f = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        path = urllib.parse.urlsplit(self.path).path
        with LOCK:
            if path == "/token":
                g = f.get("grant_type")
                if g == "refresh_token":
                    r = grant_refresh(f)
                elif g == "urn:ietf:params:oauth:grant-type:device_code":
                    r = grant_device(f)
                else:
                    r = err("unsupported_grant_type")
            elif path == "/device":
                r = device(f)
            elif path == "/introspect":
                r = introspect(f)
            else:
                r = (404, {"error": "not found"})
        self.reply(*r)

    def log_message(self, fmt, *args):
        # The request line only: paths here carry no tokens.
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"),
                                      fmt % args))


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
