#!/usr/bin/env python3
"""Extract the display strings of [MS-OCER] Appendix D (section 9, Lync 2010)
and Appendix E (section 10, Office Communicator 2007 / 2007 R2).

The seed is the specification converted from PDF to text.  Its tables carry
conversion damage; every repair is coded below as a named rule and recorded
per row, so `spec-rows.tsv`, the FTL comments and the README all say what was
changed and where.  Usage:

    extract_strings.py SEED            regenerate spec-rows.tsv, the two FTL
                                       files and the generated README blocks
    extract_strings.py SEED --check    regenerate in memory only; fail when a
                                       committed file differs

Either way the rows are verified against the seed a second time, word by
word, by a method that shares only the tab split of a line, the page-furniture
patterns and the mode names with the extraction (see `verify`), and the
counts per table are printed.  Python 3.11, stdlib only.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TSV_PATH = HERE / "spec-rows.tsv"
UNHANDLED_PATH = HERE / "unhandled-ids.tsv"
FTL_PATHS = {
    "lync2010": HERE / "en-US" / "lync2010.ftl",
    "oc2007": HERE / "en-US" / "communicator2007.ftl",
}
README_PATH = HERE / "README.md"

# Section number -> (string set, category).  Coded tables have an Error ID
# column; the generic table (9.3.1) has none.
TABLES = {
    "9.2.2": ("lync2010", "msdiag"),
    "9.2.3": ("lync2010", "sip"),
    "9.2.4": ("lync2010", "warning"),
    "9.2.5": ("lync2010", "windows"),
    "9.3.1": ("lync2010", "generic"),
    "10.2.2": ("oc2007", "msdiag"),
    "10.2.3": ("oc2007", "sip"),
    "10.2.4": ("oc2007", "warning"),
    "10.2.5": ("oc2007", "windows"),
}
# "Not Handled" lists: ms-diagnostics ids that get the generic string.
UNHANDLED = {"9.3.2": "lync2010", "10.3.1": "oc2007"}
# Communicator's 10.3 names the behaviour but gives no text.
OC_GENERIC_SECTION = "10.3"
# Not a section of the spec: Lync 2010's sign-in strings (SIGN_IN below).
SIGN_IN_SECTION = "sign-in"
TABLE_ORDER = ["9.2.2", "9.2.3", "9.2.4", "9.2.5", "9.3.1", "9.3.2",
               SIGN_IN_SECTION, "10.2.2", "10.2.3", "10.2.4", "10.2.5", "10.3", "10.3.1"]

# The Mode column as the spec spells it -> our mode id.
MODES = {
    "IM": "im",
    "Voice": "voice",
    "Conference": "conference",
    "Sharing": "sharing",
    "Other": "other",
    "ApplicationSharing": "application-sharing",
}
# Each mode's primary action: the fallback when the user's action has no row.
PRIMARY_ACTION = {
    "im": "send-message",
    "voice": "call",
    "conference": "join",
    "sharing": "share",
    "application-sharing": "share",
    "other": "any",
}

# The PDF conversion typed "IM" with look-alike capitals in some Mode cells.
LOOKALIKES = {
    "\u0399": ("I", "Greek capital iota U+0399"),
    "\u039c": ("M", "Greek capital mu U+039C"),
    "\u0406": ("I", "Cyrillic capital byelorussian-ukrainian i U+0406"),
    "\u041c": ("M", "Cyrillic capital em U+041C"),
}

FURNITURE = [
    re.compile(r"^\[MS-OCER\] \u2014 v\d{8} "),  # running page header
    re.compile(r"^Copyright "),                    # page footer
    re.compile(r"^Release: "),                     # page footer
]
HEADING = re.compile(r"^#+\s+\**(\d+(?:\.\d+)*)\**\s")
ITALIC_TAG = re.compile(r"</?i>")
PRODUCT_TAG = '<product name="">.</product>'

# Spec placeholder -> Fluent placeable.  `%3` is the printf-style argument of
# Communicator's ApplicationSharing row (10.2.3): the name of the sharing
# feature that failed to start.
PLACEHOLDERS = [
    ("[user name]", "{ $user }"),
    ("[client name]", "{ $client }"),
    ("[error ID]", "{ $errorId }"),
    ("<product name>", "{ -product-name }"),
    ("%3", "{ $feature }"),
]
PRODUCT_NAME = {"lync2010": "Lync", "oc2007": "Communicator"}

# Cell repairs that no general rule can make: the converter wrote the
# Diagnostic reason (or part of it) into the Descriptive string cell of these
# Communicator IM rows, whose reason cell is then empty.  Key: (set, category,
# code, mode, column) -> (text to remove, explanation).
REASON_BLEED = {
    ("oc2007", "msdiag", "6007", "im", "info"): (
        " Conference URI",
        "removed `Conference URI`: start of the Diagnostic reason "
        "(\"Conference URI not present in request.\", 9.2.2) run into the "
        "Descriptive string cell",
    ),
    ("oc2007", "msdiag", "6011", "im", "info"): (
        " User not found. User not found.",
        "removed `User not found. User not found.`: the Diagnostic reason, "
        "twice, run into the middle of the Descriptive string cell",
    ),
    ("oc2007", "msdiag", "6012", "im", "info"): (
        " Participant is not expected to be incoming.",
        "removed `Participant is not expected to be incoming.`: the "
        "Diagnostic reason run into the Descriptive string cell",
    ),
    ("oc2007", "msdiag", "6013", "im", "info"): (
        " Conference is terminated.",
        "removed `Conference is terminated.`: the Diagnostic reason run into "
        "the Descriptive string cell",
    ),
}

# Rows that repeat an earlier row of the same (set, category, code, mode)
# except for a conversion-level difference; they collapse into that row.
NEAR_DUPLICATES = {
    # line of the near duplicate -> (line of the row it collapses into, why)
    4518: (4510, "differs from line 4510 only by the Error Message's missing "
                 "final period"),
}

# Spec wording kept although it looks wrong: word for word is the rule.
KEPT_AS_IS = {
    4321: "Additional Information ends mid-sentence (\"Try logging out of\"): "
          "the spec text stops there; nothing was invented",
    4385: "Error Message has no final period",
    4953: "\"canno\" and the missing \")\" after \"(ID: [error ID]\" are the "
          "spec's",
}

# Communicator 10.3 gives no text for its generic string.  These are ours, in
# the voice of Communicator's other strings (IM and data collaboration write
# only the descriptive string into the IM area, 10.2 item 1).
OC_GENERIC = [
    ("im", "send-message", "",
     "This message was not delivered to [user name] because an error "
     "occurred. Contact your system administrator with this information. "
     "(ID: [error ID])"),
    ("voice", "call", "Call was unsuccessful.",
     "An error occurred. If the problem continues, contact your system "
     "administrator with this information. (ID: [error ID])"),
    ("conference", "join", "Cannot connect to the conference.",
     "An error occurred. If you still cannot connect, contact your system "
     "administrator with this information. (ID: [error ID])"),
    ("application-sharing", "share", "",
     "Sharing could not be started because an error occurred. Contact your "
     "system administrator with this information. (ID: [error ID])"),
    ("other", "any", "An error occurred.",
     "<product name> could not complete the operation. Contact your system "
     "administrator with this information. (ID: [error ID])"),
]
NOT_FROM_SPEC = "not from the spec: MS-OCER 10.3 gives no text"

# MS-OCER has no sign-in strings: Appendix D covers calls, IM, meetings and
# sharing, not a REGISTER refused for its credentials, which is the first
# failure a user of a real pool meets (wrong password, NTLM refused, a scheme
# the client lacks).  These rows carry the text Lync 2010 itself shows then,
# as SIP-code rows of mode `other`, action `sign-in`, so that the priority
# rule still lets an ms-diagnostics string outrank them.  (code, primary, info)
SIGN_IN = [
    (code, "Cannot sign in. You may have entered your sign-in address, user "
     "name, or password incorrectly, or the authentication mode may be "
     "incorrect. If the problem persists, contact your support team.", "")
    for code in ("401", "407")
]
NOT_FROM_SPEC_SIGN_IN = ("not from the spec: MS-OCER has no sign-in strings; "
                         "Lync 2010's own sign-in error text")
# The sections whose rows are ours, not the spec's: their note.
OURS = {OC_GENERIC_SECTION: NOT_FROM_SPEC,
        SIGN_IN_SECTION: NOT_FROM_SPEC_SIGN_IN}


# --------------------------------------------------------------------------
# Actions: what the user was doing, derived from the string's content.
# Ordered rules per mode; the first match wins.  Text is primary + info.

ACTION_RULES = {
    "voice": [
        (r"transfer", "transfer"),
        (r"add video|Video was not accepted", "add-video"),
        (r"\bpark (the )?call", "park"),
        (r"ended while it was on hold", "in-session"),
        (r"^[^\t]*(online meeting|[Cc]onference)", "join"),
        (r".", "call"),
    ],
    "conference": [
        (r"has ended the meeting|meeting ended because|ended due to "
         r"inactivity|[Rr]emoved from|Call was disconnected", "in-session"),
        (r"^Call was not completed", "call"),
        (r"\[user name\]", "add-participant"),
        (r".", "join"),
    ],
    "im": [
        (r"signed in to a device that cannot receive messages|cannot receive "
         r"instant messages", "start-conversation"),
        (r"^\[user name\] cannot be (found|reached)\.", "add-participant"),
        (r".", "send-message"),
    ],
    "sharing": [
        (r"You have declined the invitation", "answer-share"),
        (r"invitation|with this contact", "invite-share"),
        (r"ended|[Rr]emoved from|screen sharing error occurred", "in-session"),
        (r"conferencing service|sharing content", "share-content"),
        (r".", "share"),
    ],
    "application-sharing": [(r".", "share")],
    "other": [(r".", "any")],
}


def derive_action(mode: str, primary: str, info: str) -> str:
    text = primary + "\t" + info
    for pattern, action in ACTION_RULES[mode]:
        if re.search(pattern, text):
            return action
    raise AssertionError(f"no action rule for {mode}: {text!r}")


# --------------------------------------------------------------------------
# Extraction

@dataclass
class Row:
    table: str
    set: str
    category: str
    code: str
    mode: str
    cells: list[str]
    line: int
    fixes: list[str] = field(default_factory=list)
    primary: str = ""
    info: str = ""
    reason: str = ""
    action: str = ""
    also_lines: list[int] = field(default_factory=list)
    continued: list[tuple[int, bool]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.set, self.category, self.code, self.mode, self.action)

    @property
    def message_id(self) -> str:
        return message_id(self.set, self.category, self.code, self.mode,
                          self.action)


def message_id(set_: str, category: str, code: str, mode: str,
               action: str) -> str:
    if category == "generic":
        return f"{set_}-generic-{mode}-{action}"
    return f"{set_}-{category}-{code}-{mode}-{action}"


def is_furniture(text: str) -> bool:
    return any(p.search(text) for p in FURNITURE)


def section_ranges(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Section number -> (heading index, next heading index), 0-based."""
    heads = [(i, m.group(1)) for i, t in enumerate(lines)
             if (m := HEADING.match(t))]
    ranges: dict[str, tuple[int, int]] = {}
    for n, (i, num) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        if num in TABLES or num in UNHANDLED or num == OC_GENERIC_SECTION:
            if num in ranges:
                raise SystemExit(f"section {num} heading appears twice")
            ranges[num] = (i, end)
    missing = set(TABLES) | set(UNHANDLED) | {OC_GENERIC_SECTION}
    missing -= set(ranges)
    if missing:
        raise SystemExit(f"section headings not found: {sorted(missing)}")
    return ranges


def fold_mode(cell: str) -> tuple[str | None, str | None]:
    """The mode id of a Mode cell, and a fix note when look-alikes were used."""
    folded, names = [], []
    for ch in cell.strip():
        if ch in LOOKALIKES:
            folded.append(LOOKALIKES[ch][0])
            names.append(LOOKALIKES[ch][1])
        else:
            folded.append(ch)
    word = "".join(folded)
    if word not in MODES:
        return None, None
    note = None
    if names:
        note = (f"Mode `{cell.strip()}` written with look-alike letters "
                f"({', '.join(names)}); read as `{word}`")
    return MODES[word], note


def read_table(lines: list[str], num: str, start: int, end: int) -> list[Row]:
    set_, category = TABLES[num]
    coded = category != "generic"
    rows: list[Row] = []
    in_table = False
    page_break = False
    for i in range(start + 1, end):
        text = lines[i]
        lineno = i + 1
        if not text.strip():
            continue
        if is_furniture(text):
            page_break = True
            continue
        cells = text.split("\t")
        if cells[0].strip() == "Mode":
            # First header starts the table; later ones repeat it on a new page.
            in_table = True
            continue
        if not in_table:
            continue  # prose before the table
        if cells[0] == "":
            if not rows:
                raise SystemExit(f"line {lineno}: continuation before any row")
            row = rows[-1]
            while len(row.cells) < len(cells):
                row.cells.append("")
            for k, c in enumerate(cells):
                if c.strip():
                    row.cells[k] = (row.cells[k].strip() + " " + c.strip()).strip()
            row.continued.append((lineno, page_break))
            page_break = False
            continue
        mode, note = fold_mode(cells[0])
        if mode is None:
            raise SystemExit(f"line {lineno}: unexpected line in table {num}: "
                             f"{text!r}")
        page_break = False
        if coded and not re.fullmatch(r"\d+", cells[1].strip()):
            raise SystemExit(f"line {lineno}: no error code: {text!r}")
        row = Row(table=num, set=set_, category=category,
                  code=cells[1].strip() if coded else "", mode=mode,
                  cells=list(cells), line=lineno)
        if note:
            row.fixes.append(note)
        rows.append(row)
    return rows


def tagged_fragments(cell: str) -> list[str]:
    """The spans of a cell that carry <i> tags, with the brackets, stops and
    spaces around them that the tags displaced (for the fix notes)."""
    regions: list[list[int]] = []
    for m in re.finditer(r"<i>.*?</i>", cell):
        a, b = m.span()
        if regions and cell[regions[-1][1]:a].strip() == "":
            regions[-1][1] = b  # `<i>[user</i> <i>name]</i>`
        else:
            regions.append([a, b])
    out = []
    for a, b in regions:
        left = re.search(r"[\[(] ?$", cell[:a])
        if left:
            a = left.start()
        right = re.match(r"(?: ?\w*\])?(?: ?[.;:)])?", cell[b:])
        if right:
            b += right.end()
        out.append(cell[a:b])
    return out


def clean_cell(cell: str) -> tuple[str, list[str]]:
    """Repair one string cell; return the text and a note per repair."""
    notes: list[str] = []
    text = cell.strip()
    if PRODUCT_TAG in text:
        text = text.replace(PRODUCT_TAG, "<product name>.")
        notes.append(f"`{PRODUCT_TAG}` (the placeholder `<product name>` "
                     "mangled into an HTML element) read as "
                     "`<product name>.`")
    if ITALIC_TAG.search(text):
        frags = tagged_fragments(text)
        fixed = ITALIC_TAG.sub("", text)
        # The converter put a space on each side of a tag; remove the ones
        # that now sit inside brackets or before punctuation.
        fixed = re.sub(r"\[\s+", "[", fixed)
        fixed = re.sub(r"\s+\]", "]", fixed)
        fixed = re.sub(r"\(\s+", "(", fixed)
        fixed = re.sub(r"\s+\)", ")", fixed)
        fixed = re.sub(r"\]\s+([.;:,])", r"]\1", fixed)
        fixed = re.sub(r"\s{2,}", " ", fixed)
        for frag in frags:
            clean = re.sub(r"\s{2,}", " ", ITALIC_TAG.sub("", frag))
            clean = re.sub(r"\[\s+", "[", clean)
            clean = re.sub(r"\s+\]", "]", clean)
            clean = re.sub(r"\(\s+", "(", clean)
            clean = re.sub(r"\s+\)", ")", clean)
            clean = re.sub(r"\]\s+([.;:,])", r"]\1", clean)
            notes.append(f"HTML italics `{frag}` read as `{clean}`")
        text = fixed
    return text, notes


def continuation_note(continued: list[tuple[int, bool]]) -> str:
    """One fix note for the lines that continue a row's cells."""
    nums = [n for n, _ in continued]
    if len(nums) == 1:
        where = f"line {nums[0]}"
    else:
        where = f"lines {nums[0]}-{nums[-1]}"
    if all(pb for _, pb in continued):
        how = ("row split across pages: its cells continue on " + where +
               ", after the page footer and the repeated header row")
    elif not any(pb for _, pb in continued):
        how = ("cell text continues on " + where + " (lines that start "
               "with tabs, one list item a line)")
    else:
        raise SystemExit(f"mixed continuation {continued}")
    return how + "; the pieces are joined with a space"


def finish_rows(rows: list[Row]) -> None:
    for row in rows:
        if row.continued:
            # Keep the look-alike note (made when the row was read) first.
            row.fixes.append(continuation_note(row.continued))
        coded = row.category != "generic"
        base = 2 if coded else 1
        cells = row.cells + [""] * 5
        texts = {}
        for name, k in (("primary", base), ("info", base + 1)):
            text, notes = clean_cell(cells[k])
            bleed = REASON_BLEED.get((row.set, row.category, row.code,
                                      row.mode, name))
            if bleed:
                bad, why = bleed
                if text.count(bad) != 1:
                    raise SystemExit(f"line {row.line}: bleed fix {bad!r} "
                                     "does not apply")
                text = text.replace(bad, "")
                notes.append(why)
            role = {"primary": "Error Message", "info": "Additional "
                    "Information"} if row.set == "lync2010" else {
                    "primary": "Summary string", "info": "Descriptive string"}
            row.fixes.extend(f"{role[name]}: {n}" for n in notes)
            texts[name] = text
        row.primary, row.info = texts["primary"], texts["info"]
        row.reason = " ".join(c.strip() for c in cells[base + 2:] if c.strip())
        if not row.primary and not row.info:
            raise SystemExit(f"line {row.line}: row without text")
        if row.line in KEPT_AS_IS:
            row.fixes.append("kept as is: " + KEPT_AS_IS[row.line])
        row.action = derive_action(row.mode, row.primary, row.info)


def collapse(rows: list[Row]) -> list[Row]:
    """Drop rows that repeat an earlier row of the same (set, category, code,
    mode) with the same strings, recording them on the row they repeat."""
    kept: list[Row] = []
    by_line = {r.line: r for r in rows}
    for row in rows:
        if row.line in NEAR_DUPLICATES:
            target_line, why = NEAR_DUPLICATES[row.line]
            target = by_line[target_line]
            assert (target.set, target.category, target.code, target.mode) == (
                row.set, row.category, row.code, row.mode)
            assert target.info == row.info
            assert target.primary.rstrip(".") == row.primary.rstrip(".")
            target.also_lines.append(row.line)
            target.fixes.append(f"line {row.line} collapsed into this row: "
                                f"it {why}")
            # The dropped row's own repairs are listed too.
            target.fixes.extend(f"line {row.line}: {f}" for f in row.fixes)
            continue
        twin = next((k for k in kept
                     if (k.set, k.category, k.code, k.mode, k.primary, k.info)
                     == (row.set, row.category, row.code, row.mode,
                         row.primary, row.info)), None)
        if twin is not None:
            twin.also_lines.append(row.line)
            twin.fixes.append(f"line {row.line} collapsed into this row: "
                              "identical strings")
            # The dropped row's own repairs are listed too.
            twin.fixes.extend(f"line {row.line}: {f}" for f in row.fixes)
            continue
        kept.append(row)
    return kept


@dataclass
class Unhandled:
    set: str
    code: str
    line: int
    fixes: list[str] = field(default_factory=list)


def read_unhandled(lines: list[str], num: str, start: int,
                   end: int) -> list[Unhandled]:
    set_ = UNHANDLED[num]
    found: dict[str, Unhandled] = {}
    for i in range(start + 1, end):
        text = lines[i]
        cells = [c.strip() for c in text.split("\t")]
        if not text.strip() or is_furniture(text) or cells[0].startswith("Error"):
            continue  # header rows: "Error I", "Error II", "Error ID", "D"
        if not all(re.fullmatch(r"\d+", c) for c in cells if c):
            continue  # prose
        for c in cells:
            if not c:
                continue
            if c in found:
                found[c].fixes.append(f"listed again on line {i + 1}")
            else:
                found[c] = Unhandled(set_, c, i + 1)
    return sorted(found.values(), key=lambda u: int(u.code))


def oc_generic_rows(start: int) -> list[Row]:
    rows = []
    for mode, action, primary, info in OC_GENERIC:
        row = Row(table=OC_GENERIC_SECTION, set="oc2007", category="generic",
                  code="", mode=mode, cells=[], line=start + 1,
                  fixes=[NOT_FROM_SPEC], primary=primary, info=info,
                  action=action)
        rows.append(row)
    return rows


def sign_in_rows() -> list[Row]:
    return [Row(table=SIGN_IN_SECTION, set="lync2010", category="sip",
                code=code, mode="other", cells=[], line=0,
                fixes=[NOT_FROM_SPEC_SIGN_IN], primary=primary, info=info,
                action="sign-in")
            for code, primary, info in SIGN_IN]


def extract(seed: Path):
    lines = seed.read_text(encoding="utf-8").split("\n")
    ranges = section_ranges(lines)
    tables: dict[str, list[Row]] = {}
    raw_counts: dict[str, int] = {}
    for num in TABLES:
        rows = read_table(lines, num, *ranges[num])
        raw_counts[num] = len(rows)
        finish_rows(rows)
        tables[num] = collapse(rows)
    tables[OC_GENERIC_SECTION] = oc_generic_rows(
        ranges[OC_GENERIC_SECTION][0])
    tables[SIGN_IN_SECTION] = sign_in_rows()
    unhandled = {num: read_unhandled(lines, num, *ranges[num])
                 for num in UNHANDLED}
    return lines, tables, raw_counts, unhandled


# --------------------------------------------------------------------------
# Consistency checks on the extracted rows

def check_keys(tables: dict[str, list[Row]],
               unhandled: dict[str, list[Unhandled]]) -> None:
    seen: dict[tuple, Row] = {}
    for rows in tables.values():
        for row in rows:
            if row.key in seen:
                other = seen[row.key]
                raise SystemExit(
                    f"key {row.key} twice: line {other.line} "
                    f"{other.primary!r}/{other.info!r} and line {row.line} "
                    f"{row.primary!r}/{row.info!r}")
            seen[row.key] = row
            if row.mode not in PRIMARY_ACTION:
                raise SystemExit(f"line {row.line}: mode {row.mode} unknown")
    # Fallback step 2 must always find a generic string for every mode.
    for set_ in ("lync2010", "oc2007"):
        generic = {(r.mode, r.action) for rows in tables.values() for r in rows
                   if r.set == set_ and r.category == "generic"}
        modes = {m for m, _ in generic}
        lacking = [m for m in modes if (m, PRIMARY_ACTION[m]) not in generic]
        if lacking:
            raise SystemExit(f"{set_}: generic rows lack the primary action "
                             f"of {lacking}")
    # An id handled in a set's 2.x tables must not also be listed unhandled.
    for num, items in unhandled.items():
        set_ = UNHANDLED[num]
        handled = {r.code for rows in tables.values() for r in rows
                   if r.set == set_ and r.category == "msdiag"}
        clash = sorted({u.code for u in items} & handled, key=int)
        if clash:
            raise SystemExit(f"{num}: handled ids listed as unhandled: {clash}")


# --------------------------------------------------------------------------
# Output

TSV_COLUMNS = ["set", "category", "code", "mode", "action", "message_id",
               "primary", "info", "spec_line", "fixes"]


def tsv_text(tables: dict[str, list[Row]],
             unhandled: dict[str, list[Unhandled]]) -> str:
    out = ["\t".join(TSV_COLUMNS)]
    for num in TABLE_ORDER:
        if num in UNHANDLED:
            for u in unhandled[num]:
                out.append("\t".join([u.set, "unhandled", u.code, "", "", "",
                                      "", "", str(u.line),
                                      "; ".join(u.fixes)]))
            continue
        for r in tables[num]:
            cells = [r.set, r.category, r.code, r.mode, r.action,
                     r.message_id, r.primary, r.info, str(r.line),
                     "; ".join(r.fixes)]
            for c in cells:
                if "\t" in c or "\n" in c:
                    raise SystemExit(f"line {r.line}: tab or newline in cell")
            out.append("\t".join(cells))
    return "\n".join(out) + "\n"


def unhandled_text(unhandled: dict[str, list[Unhandled]]) -> str:
    """The 9.3.2 / 10.3.1 lists alone, for the SDK to embed (the display rule
    stops at a listed id and shows the generic string)."""
    out = ["set\tsection\terror_id\tspec_line"]
    for num in TABLE_ORDER:
        if num in UNHANDLED:
            out.extend(f"{u.set}\t{num}\t{u.code}\t{u.line}"
                       for u in unhandled[num])
    return "\n".join(out) + "\n"


def fluent_text(text: str) -> str:
    """Spec text -> Fluent pattern text (single line)."""
    if "{" in text or "}" in text:
        text = text.replace("{", "\0l").replace("}", "\0r")
        text = text.replace("\0l", '{ "{" }').replace("\0r", '{ "}" }')
    for spec, ftl in PLACEHOLDERS:
        text = text.replace(spec, ftl)
    leftover = re.findall(r"\[[^\]]*\]|<[^>]*>|%\d", text)
    if leftover:
        raise SystemExit(f"unknown placeholder {leftover} in {text!r}")
    if text[:1] in ("[", "*", "."):
        text = '{ "' + text[0] + '" }' + text[1:]
    return text


def ftl_text(set_: str, tables: dict[str, list[Row]]) -> str:
    product = PRODUCT_NAME[set_]
    if set_ == "lync2010":
        head = [
            "### [MS-OCER] Appendix D (section 9): the strings Lync 2010 shows for",
            "### received diagnostic codes. Generated by locales/extract_strings.py",
            "### from the spec text; see locales/README.md for the id scheme.",
            "###",
            "### Value = \"Error Message\"; .info = \"Additional Information\".",
        ]
    else:
        head = [
            "### [MS-OCER] Appendix E (section 10): the strings Office Communicator",
            "### 2007 and 2007 R2 show for received diagnostic codes. Generated by",
            "### locales/extract_strings.py from the spec text; see locales/README.md.",
            "###",
            "### Value = \"Summary string\"; .info = \"Descriptive string\". Where the",
            "### spec's Summary string is empty (IM and data collaboration rows write",
            "### only into the IM area) the message has only the .info attribute.",
        ]
    out = head + [
        "",
        "## The product the strings name: section " + (
            "9 applies to Microsoft Lync 2010." if set_ == "lync2010" else
            "10 applies to Microsoft Office Communicator 2007 and 2007 R2."),
        f"-product-name = {product}",
    ]
    titles = {
        "9.2.2": "MS-Diagnostic Errors", "9.2.3": "SIP Errors",
        "9.2.4": "SIP Warning Errors", "9.2.5": "Windows Errors",
        "9.3.1": "Generic Error Message Strings",
        "10.2.2": "MS-Diagnostic Errors", "10.2.3": "SIP Errors",
        "10.2.4": "SIP Warning Errors", "10.2.5": "Windows Errors",
        "10.3": "Unhandled Error Display (generic strings)",
        SIGN_IN_SECTION: "Sign-in errors (not a section of the spec)",
    }
    for num in TABLE_ORDER:
        if num not in tables or not tables[num] or tables[num][0].set != set_:
            continue
        out += ["", f"## {titles[num]}" if num == SIGN_IN_SECTION
                else f"## {num} {titles[num]}"]
        for r in tables[num]:
            out.append("")
            if num == SIGN_IN_SECTION:
                out.append(f"# {NOT_FROM_SPEC_SIGN_IN}")
            elif NOT_FROM_SPEC in r.fixes:
                out.append(f"# {NOT_FROM_SPEC}")
                out.append(f"# spec: {num}, line {r.line} (section heading)")
            else:
                note = f"# spec: {num}, line {r.line}"
                if r.fixes:
                    note += "; fixed: " + "; ".join(r.fixes)
                out.append(note)
            value = fluent_text(r.primary) if r.primary else ""
            out.append(f"{r.message_id} = {value}".rstrip())
            if r.info:
                out.append(f"    .info = {fluent_text(r.info)}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Second, independent check: compare words, not cells.

def words(text: str) -> list[str]:
    """Tokens of a text with markup, look-alikes and spacing normalized away."""
    text = text.replace(PRODUCT_TAG, " PRODUCTNAME . ")
    text = text.replace("<product name>", " PRODUCTNAME ")
    text = re.sub(r"<[^>]*>", " ", text)
    text = "".join(LOOKALIKES[c][0] if c in LOOKALIKES else c for c in text)
    return re.findall(r"[A-Za-z0-9']+|[^\sA-Za-z0-9']", text)


def is_subsequence(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(w == h for h in it) for w in needle)


def raw_span(lines: list[str], line: int) -> list[str]:
    """The seed lines of the row starting at 1-based `line`: the line itself
    and the lines up to the next row that starts with a non-empty cell."""
    span = [lines[line - 1]]
    for text in lines[line:]:
        if not text.strip() or is_furniture(text) or text.startswith("Mode\t"):
            continue
        if text.startswith("\t"):
            span.append(text)
            continue
        break
    return span


def verify(lines: list[str], tables: dict[str, list[Row]],
           unhandled: dict[str, list[Unhandled]]) -> list[str]:
    errors: list[str] = []
    for num, rows in tables.items():
        if num in OURS:
            continue
        coded = TABLES[num][1] != "generic"
        base = 2 if coded else 1
        for r in rows:
            for line in [r.line] + r.also_lines:
                span = raw_span(lines, line)
                first = span[0].split("\t")
                # Mode and code as printed on the row's first line.
                if MODES.get("".join(words(first[0]))) != r.mode:
                    errors.append(f"{line}: mode {first[0]!r} != {r.mode}")
                if coded and first[1].strip() != r.code:
                    errors.append(f"{line}: code {first[1]!r} != {r.code}")
                raw_cols: list[str] = []
                for t in span:
                    cells = t.split("\t")
                    raw_cols += cells[base:base + 2]
                raw = [w for c in raw_cols for w in words(c)]
                want = words(r.primary) + words(r.info)
                removed = []
                for (s, c, code, m, _col), (bad, _why) in REASON_BLEED.items():
                    if (s, c, code, m) == (r.set, r.category, r.code, r.mode):
                        removed += words(bad)
                # Order: each TSV cell's words appear in order in the raw
                # row (the primary's in the primary column lines, and so on).
                prim_raw = [w for t in span for w in words(
                    (t.split("\t") + [""] * 5)[base])]
                info_raw = [w for t in span for w in words(
                    (t.split("\t") + [""] * 5)[base + 1])]
                prim_want = words(r.primary)
                if line in NEAR_DUPLICATES:
                    # The collapsed near twin lacks the final period, and
                    # nothing else (NEAR_DUPLICATES).
                    if prim_want[-1:] != ["."]:
                        errors.append(f"{line}: near duplicate check")
                    prim_want = prim_want[:-1]
                    want = prim_want + words(r.info)
                if not is_subsequence(prim_want, prim_raw):
                    errors.append(f"{line}: primary words not in order in seed")
                if not is_subsequence(words(r.info), info_raw):
                    errors.append(f"{line}: info words not in order in seed")
                # Completeness: the raw string columns hold exactly the TSV
                # words plus the words a coded bleed fix removed.
                diff_a = collections.Counter(raw) - collections.Counter(
                    want + removed)
                diff_b = collections.Counter(want + removed) - \
                    collections.Counter(raw)
                if diff_a or diff_b:
                    errors.append(f"{line}: words differ: seed has extra "
                                  f"{dict(diff_a)}, TSV has extra "
                                  f"{dict(diff_b)}")
    # Unhandled: every number of the list appears in its section, and every
    # number-only cell of the section is in the list.
    ranges = section_ranges(lines)
    for num, items in unhandled.items():
        start, end = ranges[num]
        nums = collections.Counter()
        for text in lines[start + 1:end]:
            toks = text.split()
            if toks and all(t.isdigit() for t in toks):
                nums.update(toks)
        listed = {u.code for u in items}
        if set(nums) != listed:
            errors.append(f"{num}: list mismatch {set(nums) ^ listed}")
        for u in items:
            if u.code not in lines[u.line - 1].split("\t"):
                errors.append(f"{num}: {u.code} not on line {u.line}")
            again = nums[u.code] - 1
            if again != sum(f.startswith("listed again") for f in u.fixes):
                errors.append(f"{num}: repeat count of {u.code} wrong")
    # Text that reaches users is plain ASCII after the fixes.
    for rows in tables.values():
        for r in rows:
            for t in (r.primary, r.info):
                if not t.isascii() or re.search(r"<i>|</i>|\s\s|^\s|\s$", t):
                    errors.append(f"{r.line}: residue in {t!r}")
    return errors


# --------------------------------------------------------------------------
# README blocks

def readme_blocks(tables, raw_counts, unhandled) -> dict[str, str]:
    counts = ["| table | set | category | spec rows | messages | collapsed |",
              "|---|---|---|---:|---:|---:|"]
    for num in TABLE_ORDER:
        if num in UNHANDLED:
            items = unhandled[num]
            repeats = sum(len(u.fixes) for u in items)
            counts.append(f"| {num} | {UNHANDLED[num]} | unhandled | "
                          f"{len(items) + repeats} ids | {len(items)} rows, no "
                          f"message | {repeats} repeated ids |")
            continue
        rows = tables[num]
        if num == OC_GENERIC_SECTION:
            counts.append(f"| {num} | oc2007 | generic | 0 (no text) | "
                          f"{len(rows)} (ours) | 0 |")
            continue
        if num == SIGN_IN_SECTION:
            counts.append(f"| (none) | lync2010 | sip, sign-in | 0 (not in "
                          f"the spec) | {len(rows)} (Lync 2010's) | 0 |")
            continue
        counts.append(f"| {num} | {TABLES[num][0]} | {TABLES[num][1]} | "
                      f"{raw_counts[num]} | {len(rows)} | "
                      f"{raw_counts[num] - len(rows)} |")
    total = sum(len(rows) for rows in tables.values())
    counts.append(f"| all | | | | {total} | |")
    fixes = ["| spec line | message id | fix |", "|---:|---|---|"]
    for num in TABLE_ORDER:
        if num in UNHANDLED:
            for u in unhandled[num]:
                for f in u.fixes:
                    fixes.append(f"| {u.line} | ({num} unhandled {u.code}) | "
                                 f"id {f} |")
            continue
        for r in tables[num]:
            for f in r.fixes:
                if f in OURS.values():
                    continue
                fixes.append(f"| {r.line} | `{r.message_id}` | "
                             f"{f.replace('|', '&#124;')} |")
    return {"counts": "\n".join(counts), "fixes": "\n".join(fixes)}


def with_blocks(readme: str, blocks: dict[str, str]) -> str:
    for name, body in blocks.items():
        begin = f"<!-- BEGIN {name} (generated by extract_strings.py) -->"
        end = f"<!-- END {name} -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md lacks the {name} block markers")
        readme = pattern.sub(lambda _m: f"{begin}\n{body}\n{end}", readme)
    return readme


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seed", type=Path, help="MS-OCER spec text")
    ap.add_argument("--check", action="store_true",
                    help="do not write; fail if committed files differ")
    args = ap.parse_args()

    lines, tables, raw_counts, unhandled = extract(args.seed)
    check_keys(tables, unhandled)
    errors = verify(lines, tables, unhandled)
    for e in errors:
        print("verify:", e, file=sys.stderr)

    outputs = {TSV_PATH: tsv_text(tables, unhandled),
               UNHANDLED_PATH: unhandled_text(unhandled)}
    for set_, path in FTL_PATHS.items():
        outputs[path] = ftl_text(set_, {k: [r for r in v if r.set == set_]
                                        for k, v in tables.items()})
    if README_PATH.exists():
        outputs[README_PATH] = with_blocks(
            README_PATH.read_text(encoding="utf-8"),
            readme_blocks(tables, raw_counts, unhandled))

    stale = []
    for path, text in outputs.items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            if args.check:
                stale.append(path.name)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")

    print(f"{'table':8} {'set':9} {'category':9} {'spec rows':>9} "
          f"{'messages':>8}")
    for num in TABLE_ORDER:
        if num in UNHANDLED:
            print(f"{num:8} {UNHANDLED[num]:9} {'unhandled':9} "
                  f"{len(unhandled[num]):>9} {'-':>8}")
        elif num == OC_GENERIC_SECTION:
            print(f"{num:8} {'oc2007':9} {'generic':9} {'-':>9} "
                  f"{len(tables[num]):>8}  (not from the spec)")
        elif num == SIGN_IN_SECTION:
            print(f"{num:8} {'lync2010':9} {'sip':9} {'-':>9} "
                  f"{len(tables[num]):>8}  (not from the spec)")
        else:
            print(f"{num:8} {TABLES[num][0]:9} {TABLES[num][1]:9} "
                  f"{raw_counts[num]:>9} {len(tables[num]):>8}")
    print(f"verify: {len(errors)} error(s)")
    if stale:
        print("stale:", ", ".join(stale), file=sys.stderr)
    return 1 if errors or stale else 0


if __name__ == "__main__":
    sys.exit(main())
