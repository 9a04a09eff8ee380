#!/usr/bin/env python3
"""Extract the look-up tables of seeds 000, 003 and 004 into the TSVs beside
this script (`phone-edition-status.tsv`, `eas-status-codes.tsv`,
`ucwa-errors.tsv`).

Python 3.11, standard library only.  The output is a pure function of the seed
texts (and of the `check` advice below, which is ocer's own words, not a seed's):

    python3 sdk/data/extract_lookups.py            # write the TSVs
    python3 sdk/data/extract_lookups.py --check    # fail if the files on disk differ

Seeds are found in --seeds DIR, else $OCER_SEEDS_DIR, else <repo>/../shared/seeds.
Every row carries the 1-based seed line it was read from; a line the patterns
below do not expect stops the script (it never guesses).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHONE_SEED = "000_005569fbf89ee632.txt"
EAS_SEED = "003_ffde50819d082cf6.txt"
UCWA_SEED = "004_9dca809dfe00163f.txt"

# What an administrator should check, per code of the Phone Edition's "Last
# Update Status" pair.  ocer's advice, keyed like the seed's rows; the seed
# itself only says which side failed (lines 16 and 45).
CHECKS = {
    ("wininet", 12002): "The Update Server did not answer in time: check that the phone reaches it (firewall, proxy) and that the server is running.",
    ("wininet", 12005): "The update URL the phone was given is malformed: check the Update Server URL in DHCP option 43/120 or the in-band provisioning settings.",
    ("wininet", 12007): "DNS did not resolve the Update Server's name: check the phone's DNS server and the server's A record.",
    ("wininet", 12028): "The requested update file is not on the server: check the Update Server's published files for this phone model.",
    ("wininet", 12029): "No TCP connection to the Update Server: check that the web service is up and its port is open from the phone's network.",
    ("wininet", 12030): "The server closed the connection: check the web server's logs and any proxy or load balancer in between.",
    ("wininet", 12031): "The connection was reset: check for a firewall, proxy or TLS mismatch that drops the phone's connection.",
    ("http", 401): "The server wants credentials the phone did not give or that were refused: check the user's sign-in and the virtual directory's authentication.",
    ("http", 403): "The server refuses the phone: check the virtual directory's permissions and any IP restrictions.",
    ("http", 404): "The update URL names nothing on the server: check the Update Server's virtual directory and published files.",
    ("http", 500): "The Update Server failed: check its event log and the IIS log of the request.",
    ("http", 501): "The server does not support the phone's request: check that the URL points at the Update Server, not another web site.",
    ("http", 502): "A proxy or reverse proxy got a bad answer from the Update Server: check the proxy and the server behind it.",
    ("http", 503): "The server is overloaded or in maintenance: wait, then check the Update Server's application pool.",
}


def seeds_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("OCER_SEEDS_DIR")
    if env:
        return Path(env)
    return HERE.parent.parent.parent / "shared" / "seeds"


def fail(seed: str, line: int, why: str) -> None:
    sys.exit(f"{seed}:{line}: {why}")


def tsv(header: list[str], rows: list[list[str]]) -> str:
    out = ["\t".join(header)]
    for row in rows:
        for cell in row:
            if "\t" in cell or "\n" in cell:
                sys.exit(f"cell with a TAB or newline: {cell!r}")
        out.append("\t".join(row))
    return "\n".join(out) + "\n"


def phone_edition(lines: list[str]) -> str:
    rows: list[list[str]] = []
    # WinInet rows: `   12002       ERROR_INTERNET_TIMEOUT` then `   (0x2ee2)    The request ...`.
    code_line = re.compile(r"^\s+(\d{5})\s+(ERROR_INTERNET_[A-Z_]+)\s*$")
    hex_line = re.compile(r"^\s+\(0x([0-9a-f]+)\)\s+(\S.*?)\s*$")
    # HTTP rows: `10.4.2 401 Unauthorized` then the paragraph on the next line.
    http_line = re.compile(r"^10\.[45]\.\d+ (\d{3}) (\S.*?)\s*$")
    for i, line in enumerate(lines):
        if m := code_line.match(line):
            code, name = int(m.group(1)), m.group(2)
            h = hex_line.match(lines[i + 1]) if i + 1 < len(lines) else None
            if not h or int(h.group(1), 16) != code:
                fail(PHONE_SEED, i + 2, "expected `(0x....)  meaning` for the code above")
            rows.append(["wininet", str(code), name, h.group(2), CHECKS[("wininet", code)], str(i + 1)])
        elif m := http_line.match(line):
            code, reason = int(m.group(1)), m.group(2)
            meaning = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not meaning:
                fail(PHONE_SEED, i + 2, "expected the status code's paragraph")
            rows.append(["http", str(code), reason, meaning, CHECKS[("http", code)], str(i + 1)])
    got = {(r[0], int(r[1])) for r in rows}
    if got != set(CHECKS):
        sys.exit(f"{PHONE_SEED}: rows {sorted(got)} differ from the advice keys {sorted(CHECKS)}")
    return tsv(["field", "code", "name", "meaning", "check", "source_line"], rows)


def eas(lines: list[str]) -> str:
    rows: list[list[str]] = []
    heading = re.compile(r"(?:^|\s)(\w+) Command Status\s*$")
    command = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := heading.search(line):
            command = m.group(1)
            if [lines[i + 1].strip(), lines[i + 2].strip()] != ["Value", "Meaning"]:
                fail(EAS_SEED, i + 2, "expected `Value` / `Meaning` after a command heading")
            i += 3
            continue
        if command and re.fullmatch(r"\d{1,2}", line.strip()):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            meaning = lines[j].strip()
            if not meaning or re.fullmatch(r"\d{1,2}", meaning):
                fail(EAS_SEED, j + 1, "expected the meaning of the value above")
            rows.append([command, line.strip(), meaning, str(i + 1)])
            i = j + 1
            continue
        if command and line.strip() == "Site":
            break
        if command and line.strip():
            fail(EAS_SEED, i + 1, f"unexpected line in the {command} table: {line!r}")
        i += 1
    return tsv(["command", "status", "meaning", "source_line"], rows)


def ucwa(lines: list[str]) -> str:
    rows: list[list[str]] = []
    start = next(i for i, l in enumerate(lines) if l.startswith("The errors listed in the following table"))
    i = start + 1
    while not lines[i].strip():
        i += 1
    while lines[i].strip():
        line = lines[i].strip()
        first = line.split(" ", 1)[0]
        # The page lost the cell border: `ApplicationNotFoundThe application ...`.
        # The name ends before the last capital of the glued first word.
        cut = max(k for k, c in enumerate(first) if c.isupper())
        if cut == 0:
            fail(UCWA_SEED, i + 1, "cannot split name from description")
        rows.append([line[:cut], line[cut:], str(i + 1)])
        i += 1
    # The subcode the contract names as its example (line 61).
    ex = next(i for i, l in enumerate(lines) if "the subcode could be 'AlreadyExists'" in l)
    rows.append(["AlreadyExists", "The resource already exists (the contract's example subcode of 409 Conflict).", str(ex + 1)])
    return tsv(["name", "meaning", "source_line"], rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", help="directory of the seed texts")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()
    d = seeds_dir(args.seeds)

    def read(name: str) -> list[str]:
        return (d / name).read_text(encoding="utf-8").split("\n")

    outputs = {
        HERE / "phone-edition-status.tsv": phone_edition(read(PHONE_SEED)),
        HERE / "eas-status-codes.tsv": eas(read(EAS_SEED)),
        HERE / "ucwa-errors.tsv": ucwa(read(UCWA_SEED)),
    }
    stale = []
    for path, text in outputs.items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date (run {Path(__file__).name}): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
