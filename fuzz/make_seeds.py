#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from sdk/tests/fixtures and the MS-OCER spec's
examples (§2.2.1.1, §2.2.1.2, §2.2.2, §4.1), plus RFC 3261's Warning and
Retry-After examples. Run from the repository root; the output is committed."""
import os, pathlib, re, struct

root = pathlib.Path(__file__).resolve().parent.parent
fx = root / "sdk/tests/fixtures/ms-ocer-4.1"
out = root / "fuzz/seeds"

def crlf(b):
    return re.sub(rb"\r?\n", b"\r\n", b)

msgs = {n: crlf((fx / f"{n}.sip").read_bytes()) for n in ["invite", "100", "101", "504"]}
trace = msgs["invite"] + msgs["100"] + msgs["101"] + msgs["504"]
bye = (b"BYE sip:alice@192.168.66.91:49541;transport=tls SIP/2.0\r\n"
       b"Via: SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKsrv1\r\n"
       b"From: <sip:bob@contoso.com>;tag=66643C5C\r\nTo: <sip:alice@contoso.com>;tag=d1efe7a825\r\n"
       b"Call-ID: f5290007af32443f8a82daa76c934880\r\nCSeq: 2 BYE\r\n"
       b"ms-diagnostics-public: 3118;reason=\"Participant removed\"\r\nContent-Length: 0\r\n\r\n")
warn480 = (b"SIP/2.0 480 Temporarily Unavailable\r\n" + b"\r\n".join(
    l for l in msgs["504"].split(b"\r\n")[1:] if l.split(b":")[0] in (b"Via", b"From", b"To", b"Call-ID", b"CSeq")) +
    b"\r\nWarning: 391 server.contoso.com \"The person you are trying to reach does not want to be disturbed\"\r\n"
    b"Retry-After: 120 (in a meeting);duration=3600\r\nContent-Length: 0\r\n\r\n")

diag = [
    b'1007;reason="Temporarily cannot\nroute";source="sip.contoso.com";ErrorType="Connect Attempt Failure"\n;WinsockFailureDescription="The peer actively refused the connection\nattempt";WinsockFailureCode="274D(WSAECONNREFUSED)";Peer="sip.contoso.com"',
    b'3027;reason=" User not allowed in closed conference"',
    b'12006;reason="Trying next hop";source="red-lsapf-01.exchange.corp.contoso.com";PhoneUsage="CN={44924569-8F42-48AD-B926-78F11B418D7E},CN=Phone Route Usages";PhoneRoute="RedLocalRoute";Gateway="gateway.contoso.com:5061"; appName="OutboundRouting"',
    b'10000;reason="Gateway returned a SIP failure code"\r\n        ',
    b'2019;reason="Report error service is not available"',
    b'ms-diagnostics: 1003;reason="User does not exist";source="[2001:db8::1]";x=\\"',
    b'ms-diagnostics-public: 3118;reason="Participant removed"',
    b'52001;reason="Client side general processing error.";UserAgent="UCCAPI/4.0";x="a\\"b\\\\c"',
]
warnings = [
    b'391 server.contoso.com "The person you are trying to reach does not want to be disturbed"',
    b"307 isi.edu \"Session parameter 'foo' not understood\"",
    b'301 isi.edu "Incompatible network address type \'E.164\'", 399 [::1]:5060 "x\\"y"',
    b'399 proxy.example.com:5060 "one\r\n two"',
]
retry = [b"120", b"18000;duration=3600", b"120 (I'm in a meeting)", b"5 (a (nested) \\) comment);x=\"q\";y=[::1]"]

report41 = crlf(b"""<reportError xmlns="http://schemas.microsoft.com/2006/09/sip/error-reporting">
  <error toUri="sip:bob@contoso.com;user=phone" callId="f5290007af32443f8a82daa76c934880" fromTag="d1efe7a825" toTag="66643C5C12E2A03D937F1045F8E8484F" contentType="application/sdp;call-type=audiovideo" responseCode="504" requestType="INVITE">
    <diagHeader>1007;reason="Temporarily cannot route"; source="server.contoso.com"; ErrorType="Connect Attempt Failure";WinsockFailureDescription="The peer actively refused the connection attempt";WinsockFailureCode="274D(WSAECONNREFUSED)";Peer="gateway.contoso.com"</diagHeader>
    <progressReports>
      <progressReport><diagHeader>12006;reason="Trying next hop";appName="OutboundRouting"</diagHeader></progressReport>
    </progressReports>
  </error>
</reportError>""")
report222 = crlf(b"""<reportError xmlns="http://schemas.microsoft.com/2006/09/sip/error-reporting">
    <error toUri="sip:user@contoso.com"
          callId="5ec5a21ab8bb4960b98de162f45cd204"
          fromTag="823bb11e1a"
           toTag="4F230FC472C24AD1255468D8C334D8FE"
           contentType="application/sdp;call-type=audiovideo"
           responseCode="408"
           requestType="INVITE">
        <diagHeader>10000;reason="Gateway returned a SIP failure code"
        </diagHeader>
        <progressReports>
            <progressReport>
                <diagHeader>12006;reason="Trying next hop";appName="OutboundRouting"
                </diagHeader>
            </progressReport>
        </progressReports>
    </error>
</reportError>""")
report_min = b'<reportError xmlns="http://schemas.microsoft.com/2006/09/sip/error-reporting"><error callId="a" fromTag="b" toUri="sip:x@y" requestType="MESSAGE" responseCode="480"><diagHeader>1 &amp; &#x41;</diagHeader><progressReports/></error></reportError>'

seqs = [trace, msgs["invite"] + msgs["504"], msgs["invite"] + msgs["101"] * 3 + msgs["504"],
        msgs["invite"] + b"SIP/2.0 200 OK\r\n" + msgs["504"].split(b"\r\n", 1)[1] + bye,
        msgs["invite"] + warn480]
seeds = {
    "stream_framing": [trace, b"\r\n\r\n" + msgs["100"], msgs["invite"], bye, warn480],
    "datagram_parse": list(msgs.values()) + [bye, warn480],
    "sip_message": list(msgs.values()) + [bye, warn480],
    "diag_header": diag,
    "warning": warnings,
    "retry_after": retry,
    # MS-OCER 4.1's INVITE offer; a Lync pool's answer; odd but valid forms.
    "keep_alive": [b"UAC;hop-hop=yes", b"UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300",
                   b"uas;timeout=0;hop-hop=yes;x=\"a;b\";flag", b"UAS;\r\n timeout=99999999999"],
    "report_reader": [report41, report222, report_min],
    "collector": seqs,
    "display_resolve": [struct.pack("<I", w) + s for w, s in zip([0, 10061, 10060, 12007, 0xFFFFFFFF], seqs)],
    "report_encode": [struct.pack("<HB", l, p) + s for (l, p), s in zip([(65535, 7), (300, 1), (2048, 0), (900, 2), (0, 0)], seqs)],
    # C API (ffi/src/fuzz.rs): pieces separated by NUL bytes, see there.
    "c_api": [d + b"\0" + msgs["invite"] + b"\0" + msgs["101"] + b"\0" + msgs["504"] + b"\0" + b"fr-FR, en;q=0.5"
              for d in diag[:3]] + [b"ms-diagnostics: 1;reason=\"x\"\0\xff\xfe\0\0\0"],
}
for target, items in seeds.items():
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    for i, item in enumerate(items):
        (d / f"seed-{i:02}").write_bytes(item)
print("wrote", sum(len(v) for v in seeds.values()), "seeds for", len(seeds), "targets")
