#!/usr/bin/env python3
"""Registers bench agents with hotline (digest auth) from one UDP port, then exits.

hotline sends an agent's calls to the source address of its REGISTER, so registering every
agent from the port the SIPp auto-answer instance will listen on later sends all offers to
that one SIPp. Setup only: nothing here is measured.

Usage: register_agents.py HOTLINE_HOST:PORT LOCAL_PORT FIRST_AGENT COUNT PASSWORD
"""
import hashlib
import re
import socket
import sys


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def request(agent, host, port, lport, cseq, auth=""):
    return (
        f"REGISTER sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bKreg{agent}x{cseq};rport\r\n"
        f"From: <sip:{agent}@{host}:{port}>;tag=bench{agent}\r\n"
        f"To: <sip:{agent}@{host}:{port}>\r\n"
        f"Call-ID: bench-register-{agent}@127.0.0.1\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:{agent}@127.0.0.1:{lport};transport=udp>\r\n"
        f"{auth}"
        "Expires: 3600\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def exchange(sock, msg):
    for _ in range(5):
        sock.send(msg)
        try:
            data = sock.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        code = int(data.split(" ", 2)[1])
        if code >= 200:
            return code, data
    raise SystemExit("no final response to REGISTER")


def main():
    target, lport, first, count, password = sys.argv[1:6]
    host, port = target.rsplit(":", 1)
    lport, first, count = int(lport), int(first), int(count)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", lport))
    sock.connect((host, int(port)))
    sock.settimeout(1.0)
    # hotline hands out the same nonce for challenges issued in the same millisecond and
    # tracks the nonce-count per nonce, not per user: count on from the last use.
    nonce_counts = {}
    for agent in range(first, first + count):
        code, data = exchange(sock, request(agent, host, port, lport, 1))
        if code == 401:
            chal = re.search(r"WWW-Authenticate:\s*Digest\s+(.*)", data, re.I).group(1)
            params = dict(re.findall(r'(\w+)="?([^",\r]*)"?', chal))
            realm, nonce = params["realm"], params["nonce"]
            uri = f"sip:{host}:{port}"
            ha1 = md5(f"{agent}:{realm}:{password}")
            ha2 = md5(f"REGISTER:{uri}")
            if "qop" in params:
                nonce_counts[nonce] = nonce_counts.get(nonce, 0) + 1
                cnonce, nc = "0a4f113b", f"{nonce_counts[nonce]:08x}"
                resp = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
                extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
            else:
                resp = md5(f"{ha1}:{nonce}:{ha2}")
                extra = ""
            auth = (
                f'Authorization: Digest username="{agent}", realm="{realm}", nonce="{nonce}", '
                f'uri="{uri}", response="{resp}", algorithm=MD5{extra}\r\n'
            )
            code, data = exchange(sock, request(agent, host, port, lport, 2, auth))
        if code != 200:
            raise SystemExit(f"agent {agent}: REGISTER answered {code}")
    print(f"registered agents {first}..{first + count - 1} at 127.0.0.1:{lport}")


if __name__ == "__main__":
    main()
