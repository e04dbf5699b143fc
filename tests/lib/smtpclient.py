#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Raw SMTP client for the listener tests: sends exact bytes, prints every
reply line. Python's smtplib cannot send malformed input, so the smuggling,
NUL and overlong cases go through here.

  smtpclient.py HOST PORT SCRIPT
SCRIPT lines: 'send <python bytes literal>' writes those bytes; 'read N'
reads N complete replies (multi-line aware) and prints them; 'sleep S';
'starttls CAFILE' starts TLS (after the 220 was read with 'read 1');
'close'. Exit status 0 unless the connection broke unexpectedly.
"""
import ast, socket, ssl, sys, time


def read_reply(f):
    lines = []
    while True:
        l = f.readline()
        if not l:
            return lines
        lines.append(l.decode("utf-8", "replace").rstrip("\r\n"))
        if len(l) < 4 or l[3:4] != b"-":
            return lines


def main():
    host, port, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.create_connection((host, port), timeout=30)
    f = s.makefile("rb")
    for line in open(script):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        if op == "send":
            s.sendall(ast.literal_eval(arg))
        elif op == "read":
            for _ in range(int(arg)):
                r = read_reply(f)
                if not r:
                    print("EOF")
                    return 0
                print("\n".join(r))
        elif op == "sleep":
            time.sleep(float(arg))
        elif op == "starttls":
            ctx = ssl.create_default_context(cafile=arg)
            s = ctx.wrap_socket(s, server_hostname="localhost")
            f = s.makefile("rb")
        elif op == "close":
            s.close()
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
