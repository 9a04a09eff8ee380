#!/usr/bin/env python3
"""A Lync-like registrar / proxy / error-reporting service for the interop tests.

Its NTLM side is another implementation than ocer's: pyspnego's [MS-NLMP]
primitives (spnego._ntlm_raw: CHALLENGE / AUTHENTICATE messages, NTOWFv2,
SEALKEY / SIGNKEY, RC4, the NTLMv2 MAC). It plays the server side of
[MS-SIPAE] as Lync Server 2010 does (MS-SIPAE 4.1):

  request without credentials -> 401 WWW-Authenticate: NTLM realm, targetname,
  version=3 (a Digest offer too: the client must prefer NTLM)
  gssapi-data=""              -> 401 with the CHALLENGE_MESSAGE and opaque
  AUTHENTICATE_MESSAGE        -> NTLMv2 checked against the password; 200 with
                                 Authentication-Info rspauth (or 401 again)
  then every request must be signed (crand, cnum, response over the MS-SIP
  3.1.4.2 buffer) with a cnum never seen before; every response but 100 is
  signed (srand, snum, rspauth).

It answers REGISTER (200; the Contact with a pub-gruu when the REGISTER
offered +sip.instance and Supported: gruu-10), INVITE with the MS-OCER 4.1
flow (100, 101 with ms-diagnostics 12006, 504 with 1007), and SERVICE (200).

Every verdict is one JSON line in --log, which the Rust tests read. With
--check-tamper it also checks, for every signed request it accepts, that the
same request with a signed header changed, and the same request again
(replayed cnum), are refused by the same code path.

Usage: lync_registrar.py --user alice --domain CONTOSO --password secret --log FILE
Prints "LISTENING <port>" on stdout once it accepts TCP connections on
127.0.0.1; exits after --run-limit seconds or when stdin closes.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time

from spnego._ntlm_raw import crypto
from spnego._ntlm_raw.messages import (
    AvId,
    Authenticate,
    Challenge,
    NegotiateFlags,
    TargetInfo,
    Version,
)
from spnego._ntlm_raw.security import sign

REALM = "SIP Communications Service"
TARGET = "pool.contoso.com"
F = NegotiateFlags
SERVER_FLAGS = (
    F.unicode | F.request_target | F.sign | F.datagram | F.ntlm | F.always_sign
    | F.target_type_domain | F.extended_session_security | F.target_info
    | F.version | F.key_128 | F.key_exch | F.key_56
)


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, **fields):
        with self.lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(fields) + "\n")


def parse_message(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return lines[0], headers, body


def header(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


def auth_params(value):
    scheme, _, rest = value.partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return scheme, params


def uri_of(value):
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def tag_of(value):
    after = value[value.rfind(">") + 1:] if ">" in value else value
    m = re.search(r";\s*tag=([^;\s]+)", after)
    return m.group(1) if m else ""


def sign_buffer(scheme, rand, num, headers, code=None):
    """MS-SIP 3.1.4.2: the values in order, each in angle brackets."""
    cseq = header(headers, "CSeq") or ""
    cseq_num, _, method = cseq.strip().partition(" ")
    parts = [
        scheme, rand, num, REALM, TARGET,
        (header(headers, "Call-ID") or "").strip(),
        cseq_num, method.strip(),
        uri_of(header(headers, "From") or ""),
        tag_of(header(headers, "From") or ""),
        tag_of(header(headers, "To") or ""),
        (header(headers, "Expires") or "").strip(),
    ]
    out = "".join("<%s>" % p for p in parts)
    if code is not None:
        out += "<%d>" % code
    return out.encode("utf-8")


def mac(flags, seal_key, sign_key, seq, data):
    """Connectionless NTLM: the RC4 handle re-keyed per message (MS-NLMP 3.4.3)."""
    handle = crypto.rc4init(hashlib.md5(seal_key + struct.pack("<I", seq)).digest())
    return sign(flags, handle, sign_key, seq, data)


class SecurityAssociation:
    def __init__(self, opaque, server_challenge):
        self.opaque = opaque
        self.server_challenge = server_challenge
        self.established = False
        self.flags = 0
        self.keys = None
        self.seen_cnum = set()
        self.snum = 0


class Registrar:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.sas = {}
        self.lock = threading.Lock()

    # --- NTLM -------------------------------------------------------------

    def challenge(self):
        opaque = os.urandom(4).hex().upper()
        sa = SecurityAssociation(opaque, os.urandom(8))
        info = TargetInfo()
        info[AvId.nb_domain_name] = self.args.domain
        info[AvId.nb_computer_name] = "POOL"
        info[AvId.dns_domain_name] = "contoso.com"
        info[AvId.dns_computer_name] = TARGET
        msg = Challenge(
            flags=SERVER_FLAGS,
            server_challenge=sa.server_challenge,
            target_name=self.args.domain,
            target_info=info,
            version=Version(6, 1, 7601),
        )
        with self.lock:
            self.sas[opaque] = sa
        return sa, base64.b64encode(msg.pack()).decode("ascii")

    def accept(self, sa, token):
        """Checks the AUTHENTICATE_MESSAGE; True and the SA keyed, or False."""
        auth = Authenticate.unpack(token)
        nt = auth.nt_challenge_response
        if len(nt) <= 24:
            return False, "not an NTLMv2 response"
        user, domain = auth.user_name or "", auth.domain_name or ""
        if user.lower() != self.args.user.lower():
            return False, "unknown user %r" % user
        key = crypto.ntowfv2(user, crypto.ntowfv1(self.args.password), domain)
        temp = nt[16:]
        proof = crypto.hmac_md5(key, sa.server_challenge + temp)
        if proof != nt[:16]:
            return False, "NTLMv2 response does not match the password"
        base = crypto.hmac_md5(key, proof)
        flags = auth.flags
        if not flags & F.datagram:
            return False, "not a connectionless (datagram) context"
        exported = crypto.rc4k(base, auth.encrypted_random_session_key) if flags & F.key_exch else base
        sa.flags = flags
        sa.keys = {
            "client_sign": crypto.signkey(flags, exported, "initiate"),
            "client_seal": crypto.sealkey(flags, exported, "initiate"),
            "server_sign": crypto.signkey(flags, exported, "accept"),
            "server_seal": crypto.sealkey(flags, exported, "accept"),
        }
        sa.established = True
        return True, "%s\\%s" % (domain, user)

    def verify_request(self, sa, params, headers, record=True):
        crand, cnum, response = params.get("crand"), params.get("cnum"), params.get("response")
        if not (crand and cnum and response):
            return "unsigned"
        try:
            seq = int(cnum)
            got = bytes.fromhex(response)
        except ValueError:
            return "malformed signature"
        if seq in sa.seen_cnum:
            return "replayed cnum %d" % seq
        want = mac(sa.flags, sa.keys["client_seal"], sa.keys["client_sign"], seq,
                   sign_buffer("NTLM", crand, cnum, headers))
        if want != got:
            return "bad signature"
        if record:
            sa.seen_cnum.add(seq)
        return None

    def sign_response(self, sa, headers, code):
        sa.snum += 1
        srand = os.urandom(4).hex()
        sig = mac(sa.flags, sa.keys["server_seal"], sa.keys["server_sign"], sa.snum,
                  sign_buffer("NTLM", srand, str(sa.snum), headers, code))
        return ('NTLM opaque="%s", qop="auth", realm="%s", targetname="%s", rspauth="%s", '
                'srand="%s", snum="%d"' % (sa.opaque, REALM, TARGET, sig.hex(), srand, sa.snum))

    # --- SIP --------------------------------------------------------------

    def respond(self, conn, req_headers, code, reason, extra=(), sa=None, to_tag=True, body=b"",
                forge=None):
        hs = []
        for name in ("Via", "From", "To", "Call-ID", "CSeq"):
            for n, v in req_headers:
                if n.lower() == name.lower():
                    if name == "To" and to_tag and code > 100 and ";tag=" not in v:
                        v += ";tag=ocerpool1"
                    hs.append((name, v))
        hs.extend(extra)
        if sa is not None and sa.established and code != 100 and forge != "unsigned":
            info = self.sign_response(sa, hs, code)
            if forge == "bad-signature":
                info = re.sub(r'rspauth="(..)', lambda m: 'rspauth="%02x' % (int(m.group(1), 16) ^ 1), info)
            hs.append(("Authentication-Info", info))
        hs.append(("Content-Length", str(len(body))))
        out = "SIP/2.0 %d %s\r\n" % (code, reason) + "".join("%s: %s\r\n" % h for h in hs) + "\r\n"
        conn.sendall(out.encode("utf-8") + body)
        self.log(event="sent", code=code, cseq=header(req_headers, "CSeq"))

    def offer(self, conn, headers, why):
        self.log(event="challenge", why=why, cseq=header(headers, "CSeq"))
        self.respond(conn, headers, 401, "Unauthorized", [
            ("WWW-Authenticate", 'Digest realm="contoso.com", nonce="%s", algorithm=MD5, qop="auth"' % os.urandom(8).hex()),
            ("WWW-Authenticate", 'NTLM realm="%s", targetname="%s", version=3' % (REALM, TARGET)),
        ])

    def handle(self, conn, raw):
        start, headers, body = parse_message(raw)
        if start.startswith("SIP/2.0"):
            return
        method = start.split(" ", 1)[0]
        if method == "ACK":
            return
        value = header(headers, "Authorization")
        if value is None:
            return self.offer(conn, headers, "no credentials")
        scheme, params = auth_params(value)
        if scheme.upper() != "NTLM":
            self.log(event="refused", why="scheme %s instead of NTLM" % scheme)
            return self.respond(conn, headers, 403, "Forbidden")
        sa = self.sas.get(params.get("opaque", ""))
        if "gssapi-data" in params:
            data = params["gssapi-data"]
            if data == "":
                sa, token = self.challenge()
                self.log(event="challenge", why="ntlm challenge", opaque=sa.opaque)
                return self.respond(conn, headers, 401, "Unauthorized", [(
                    "WWW-Authenticate",
                    'NTLM opaque="%s", gssapi-data="%s", targetname="%s", realm="%s", version=3'
                    % (sa.opaque, token, TARGET, REALM))])
            if sa is None or sa.established:
                return self.offer(conn, headers, "unknown opaque")
            ok, who = self.accept(sa, base64.b64decode(data))
            self.log(event="authenticate", ok=ok, detail=who)
            if not ok:
                with self.lock:
                    self.sas.pop(sa.opaque, None)
                return self.offer(conn, headers, "authentication failed: " + who)
        else:
            if sa is None or not sa.established:
                return self.offer(conn, headers, "no security association")
            why = self.verify_request(sa, params, headers)
            if why is not None:
                self.log(event="refused", why=why, cseq=header(headers, "CSeq"))
                return self.respond(conn, headers, 403, "Forbidden", [
                    ("ms-diagnostics", '1000;reason="Final handshake failed";source="%s"' % TARGET)])
            self.log(event="verified", method=method, cnum=params.get("cnum"))
            if self.args.check_tamper:
                self.check_tamper(sa, params, headers)
        return self.dispatch(conn, method, headers, body, sa)

    def check_tamper(self, sa, params, headers):
        """The request just accepted, with a signed header changed (its
        cnum not yet seen), and the request itself again: both refused?"""
        tampered = [(n, v + "x" if n.lower() == "call-id" else v) for n, v in headers]
        seen = sa.seen_cnum
        sa.seen_cnum = seen - {int(params["cnum"])}
        try:
            tamper_verdict = self.verify_request(sa, params, tampered, record=False)
        finally:
            sa.seen_cnum = seen
        self.log(event="tamper-check", cnum=params["cnum"], tampered=tamper_verdict,
                 replayed=self.verify_request(sa, params, headers, record=False))

    def dispatch(self, conn, method, headers, body, sa):
        if method == "REGISTER":
            contact = header(headers, "Contact") or ""
            expires = (header(headers, "Expires") or "3600").strip()
            granted = "0" if expires == "0" else str(self.args.expires)
            supported = (header(headers, "Supported") or "").lower()
            instance = re.search(r'\+sip\.instance="<urn:uuid:([^>]+)>"', contact)
            extra_contact = contact + ";expires=" + granted
            if instance and "gruu-10" in supported:
                gruu = "sip:%s@contoso.com;opaque=user:epid:%s;gruu" % (self.args.user, instance.group(1))
                extra_contact += ';+sip.instance="<urn:uuid:%s>";gruu="%s"' % (instance.group(1), gruu)
            self.log(event="register", expires=expires, contact=contact,
                     supported=header(headers, "Supported"), from_=header(headers, "From"))
            return self.respond(conn, headers, 200, "OK", [("Contact", extra_contact)], sa=sa)
        if method == "INVITE":
            self.respond(conn, headers, 100, "Trying", sa=sa, to_tag=False)
            if self.args.forge_invite_answers:
                # Two 200 OKs the client must refuse: one unsigned, one
                # with a wrong rspauth. Only the signed 504 counts.
                for forge in ("unsigned", "bad-signature"):
                    self.log(event="forged", kind=forge)
                    self.respond(conn, headers, 200, "OK", sa=sa, forge=forge)
            self.respond(conn, headers, 101, "Progress Report", [(
                "ms-diagnostics",
                '12006;reason="Trying next hop";source="%s";appName="OutboundRouting"' % TARGET)], sa=sa)
            return self.respond(conn, headers, 504, "Server time-out", [(
                "ms-diagnostics",
                '1007;reason="Temporarily cannot route";source="%s";ErrorType="Connect Attempt Failure";'
                'WinsockFailureCode="274D(WSAECONNREFUSED)";Peer="gateway.contoso.com"' % TARGET)], sa=sa)
        if method == "SERVICE":
            self.log(event="service", content_type=header(headers, "Content-Type"),
                     contact=header(headers, "Contact"), from_=header(headers, "From"),
                     body=body.decode("utf-8", "replace"))
            return self.respond(conn, headers, 200, "OK", sa=sa)
        return self.respond(conn, headers, 200, "OK", sa=sa)

    def serve(self, conn):
        buf = b""
        conn.settimeout(self.args.run_limit)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while True:
                    buf = buf.lstrip(b"\r\n")
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", buf[:end])
                    length = int(m.group(2)) if m else 0
                    if len(buf) < end + 4 + length:
                        break
                    raw, buf = buf[:end + 4 + length], buf[end + 4 + length:]
                    try:
                        self.handle(conn, raw)
                    except Exception as e:  # a bad message is logged, not fatal
                        self.log(event="error", error=repr(e))
        except (OSError, socket.timeout):
            return
        finally:
            conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--user", required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--expires", type=int, default=3600)
    p.add_argument("--run-limit", type=float, default=60.0)
    p.add_argument("--check-tamper", action="store_true")
    p.add_argument("--forge-invite-answers", action="store_true")
    args = p.parse_args()
    registrar = Registrar(args, Log(args.log))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    print("LISTENING %d" % srv.getsockname()[1], flush=True)
    deadline = time.monotonic() + args.run_limit
    while time.monotonic() < deadline:
        ready, _, _ = select.select([srv, sys.stdin], [], [], 0.2)
        if sys.stdin in ready and not sys.stdin.buffer.read1(1):
            return
        if srv in ready:
            conn, _ = srv.accept()
            threading.Thread(target=registrar.serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
