#!/usr/bin/env python3
"""Extract the MS-OCER ErrorId catalogs (Appendix B = section 7, Appendix C =
section 8) from the PDF-to-text seed into the TSV files beside this script.

Python 3.11, standard library only.  Re-runnable: the output is a pure function
of the seed text, so running it twice gives the same bytes.

    python3 sdk/data/extract_catalogs.py            # write the TSVs + README block
    python3 sdk/data/extract_catalogs.py --check    # fail if the files on disk differ

The seed is found at --seed, else $OCER_SEEDS_DIR/001_6e653f46ba48cd55.txt, else
<repo>/../shared/seeds/001_6e653f46ba48cd55.txt.

Every artifact of the PDF conversion is handled by a named rule below; a line
the rules do not recognise stops the script (it never guesses).  Each row is
then re-checked against the seed line it names.  Every deliberate change is
recorded in the row's `notes` column and listed in README.md between the
`fixes:begin` / `fixes:end` markers, which this script regenerates.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

SEED_NAME = "001_6e653f46ba48cd55.txt"
HERE = Path(__file__).resolve().parent

LYNC_TSV = HERE / "lync2010-error-ids.tsv"
OCS_TSV = HERE / "ocs2007-error-ids.tsv"
COMPONENTS_TSV = HERE / "components.tsv"
README = HERE / "README.md"

ENTRY_COLUMNS = [
    "section",
    "component",
    "error_id",
    "header",
    "direction",
    "reason",
    "footnote",
    "spec_line",
    "notes",
]
COMPONENT_COLUMNS = ["section", "component", "low", "high", "footnote", "spec_line"]

# --- line classes -----------------------------------------------------------

APPENDIX_B = re.compile(r"^#{1,6} 7 Appendix B: ")
APPENDIX_C = re.compile(r"^#{1,6} 8 Appendix C: ")
APPENDIX_D = re.compile(r"^#{1,6} 9 Appendix D: ")
SECTION_HEADING = re.compile(r"^#{1,6} ([78])\.(\d+) (\S.*?)\s*$")
PAGE_ARTIFACTS = [
    re.compile(r"^\[MS-OCER\] \u2014 v\d{8} Client Error Reporting Protocol Specification$"),
    re.compile(r"^Copyright \u00a9 \d{4} Microsoft Corporation\.$"),
    re.compile(r"^Release: [A-Z][a-z]+ \d{1,2}, \d{4}$"),
]
TABLE_HEADER = re.compile(
    r"^ErrorId\tHeader\tSIP Request, ?Response\tReason(?: [Ss]tring)?\t?$"
)
ROW = re.compile(r"^(\d+)\t(.*)$")
# A row continued after a page break: its ErrorId cell is empty (or, once, a
# stray "-" left by the PDF conversion).
CONTINUATION = re.compile(r"^(-?)\t(.*)$")
RANGE_INTRO = re.compile(r"^The following table lists .*?numbered (\d+)\s*[\u2013-]\s*(\d+)")
TABLE_FOOTNOTE = re.compile(
    r"^This table follows the product behavior described in this footnote\s+"
    r"\$\\leq (\d+) \\geq\$ \.$"
)

HEADERS = {
    "ms-diagnostics",
    "ms-diagnostics-public",
    "ms-diagnostics/ms-diagnostics-public",
}
DIRECTIONS = {"Request": "request", "Response": "response"}

# Footnote markers as the conversion left them, tried at the end of a reason.
# `pre` is reason text that the conversion swallowed into a LaTeX block.
FOOTNOTE_MARKERS = [
    re.compile(r"\s*\$(?P<pre>[^$]*?)\s*\\leq\s*(?P<n>\d+)\s*(?:\\geq|>)\s*\$\s*$"),
    re.compile(r"\s*\$\\underline\{<(?P<n>\d+)>\}\$\s*$"),
    re.compile(r"\s*\$<(?P<n>\d+)>\$\s*$"),
    re.compile(r"\s*(?:<\s*)?<(?P<tag>[ua])>(?:&lt;)?(?P<n>\d+)&gt;</(?P=tag)>\s*$"),
    re.compile(r"\s*<a></a>\s*$"),
    re.compile(r"\s*<?<(?P<n>\d+)>\s*$"),
]
HTML_TAG = re.compile(r"</?(?:b|i|u)>")
SPLIT_HYPHEN = re.compile(r"(?<=\w)- (?=\w)")
SPACE_BEFORE_STOP = re.compile(r"\s+([.,;:])")
# Greek and Cyrillic capitals that the conversion substitutes for Latin ones
# elsewhere in this seed (e.g. "ΙΜ", "ІМ" for "IM" in section 9).
LOOKALIKES = {
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H",
    "\u0399": "I", "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O",
    "\u03a1": "P", "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X", "\u03bf": "o",
    "\u0406": "I", "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K",
    "\u041c": "M", "\u041d": "H", "\u041e": "O", "\u0420": "P", "\u0421": "C",
    "\u0422": "T", "\u0425": "X", "\u0430": "a", "\u0435": "e", "\u043e": "o",
    "\u0440": "p", "\u0441": "c", "\u0443": "y", "\u0445": "x", "\u0442": "t",
}
# Characters a cleaned reason may contain besides printable ASCII: the en dash
# is the spec's own ("Conference terminated \u2013 deleted.").
EXTRA_REASON_CHARS = {"\u2013"}

# ErrorIds the seed prints wrongly.  Keyed by seed line; the script checks the
# printed id and that both neighbours confirm the correction.
ID_CORRECTIONS = {
    # 7.5 runs 4228, 4229, [4320], 4231, 4232 ...: the digits of 4230 transposed.
    1815: (4320, 4230),
}

# A word of one row's reason that the conversion glued to the front of the
# next row's reason ("No transaction." / "handlerNo component handler.").
# Keyed by the line that received the word; the script checks the glue.
WORD_SPILLS = {
    4081: "handler",
}


class ExtractError(Exception):
    """A seed line that no rule explains."""


@dataclass
class Fix:
    kind: str
    line: int
    error_id: int | None
    detail: str


@dataclass
class Row:
    section: str
    component: str
    line: int
    printed_id: int
    error_id: int
    header_raw: str
    direction_raw: str
    reason_raw: str
    trailing_cell: bool = False
    header: str = ""
    direction: str = ""
    reason: str = ""
    footnote: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Component:
    section: str
    name: str
    low: int | None
    high: int | None
    footnote: int | None
    heading_line: int
    range_line: int | None
    footnote_line: int | None = None


FIX_KINDS = {
    "page-break-join": (
        "Row split across a page break. The part after the page footer and the "
        "repeated table header starts with a TAB (empty ErrorId cell); its Header "
        "and Reason pieces are appended to the row that starts at the given line."
    ),
    "stray-id-cell": (
        "The continuation line's ErrorId cell holds a stray `-` instead of "
        "being empty; it is dropped."
    ),
    "header-case": "Header printed with a capital `Ms-`; catalogued lower-case.",
    "direction-cell": (
        "The TAB between the SIP Request/Response cell and the Reason cell is "
        "missing; the cell is split after `Request`/`Response`."
    ),
    "footnote": (
        "Footnote marker removed from the end of the reason; its number goes in "
        "the `footnote` column. The raw marker is shown."
    ),
    "footnote-inferred": (
        "Footnote marker whose number the conversion lost (`<a></a>`); the number "
        "is the one between its neighbours' footnotes."
    ),
    "latex-swallowed-text": (
        "Reason text swallowed into a LaTeX footnote block (`$id. \\leq 34 >$`); "
        "the text is kept, the block removed."
    ),
    "html": "HTML emphasis tags removed from the reason.",
    "space-before-stop": "Space before a full stop (left by a removed tag) removed.",
    "escaped-quote": "Markdown-escaped quotes `\\\"` unescaped to `\"`.",
    "hyphen-join": (
        "Hyphenated word broken at a line end in the PDF (`ms- identity`); the "
        "space after the hyphen is removed."
    ),
    "lookalike": "Greek/Cyrillic look-alike letter replaced by its Latin letter.",
    "whitespace": "Runs of spaces collapsed.",
    "id-typo": "ErrorId misprinted in the seed; corrected.",
    "word-spill": (
        "The last word of a reason was glued to the front of the next row's "
        "reason; it is moved back."
    ),
    "duplicate-id": (
        "The seed lists this ErrorId twice in the same table with different "
        "reasons. Both rows are kept; a lookup returns both."
    ),
}


def fail(line: int, msg: str) -> None:
    raise ExtractError(f"seed line {line}: {msg}")


def classify(text: str) -> str:
    if not text.strip():
        return "blank"
    if any(p.match(text) for p in PAGE_ARTIFACTS):
        return "page"
    if TABLE_HEADER.match(text):
        return "table-header"
    if ROW.match(text):
        return "row"
    if CONTINUATION.match(text):
        return "continuation"
    return "prose"


def split_cells(text: str, line: int, expect: int) -> tuple[list[str], bool]:
    """Split a row's cells after the ErrorId; allow one trailing empty cell."""
    cells = text.split("\t")
    trailing = False
    if len(cells) == expect + 1 and cells[-1] == "":
        cells = cells[:-1]
        trailing = True
    if len(cells) != expect:
        fail(line, f"expected {expect} cells after the ErrorId, got {len(cells)}: {text!r}")
    return cells, trailing


def parse(lines: list[str]) -> tuple[list[Row], list[Component], list[Fix], dict]:
    start = next((i for i, t in enumerate(lines) if APPENDIX_B.match(t)), None)
    end = next((i for i, t in enumerate(lines) if APPENDIX_D.match(t)), None)
    if start is None or end is None or end <= start:
        raise ExtractError("Appendix B / Appendix D headings not found")

    rows: list[Row] = []
    comps: list[Component] = []
    fixes: list[Fix] = []
    stats = {"header-whitespace": 0, "trailing-cell": []}
    comp: Component | None = None
    in_table = False
    prev_kind = "blank"
    pending_footnote: int | None = None

    for idx in range(start + 1, end):
        lineno = idx + 1
        text = lines[idx]
        if APPENDIX_C.match(text):
            comp, in_table, prev_kind = None, False, "heading"
            continue
        heading = SECTION_HEADING.match(text)
        if heading:
            comp = Component(
                section=f"{heading[1]}.{heading[2]}",
                name=heading[3],
                low=None,
                high=None,
                footnote=None,
                heading_line=lineno,
                range_line=None,
            )
            comps.append(comp)
            in_table = False
            prev_kind = "heading"
            continue
        kind = classify(text)
        if comp is None:
            if kind not in ("blank", "prose"):
                fail(lineno, "table content before the first subsection heading")
            continue
        if kind == "blank":
            continue
        if kind == "page":
            prev_kind = kind
            continue
        if kind == "table-header":
            in_table = True
            prev_kind = kind
            continue
        if kind == "prose":
            if in_table:
                fail(lineno, f"unrecognised line inside a table: {text!r}")
            m = RANGE_INTRO.match(text)
            if m:
                if comp.low is not None:
                    fail(lineno, "second range for one subsection")
                comp.low, comp.high, comp.range_line = int(m[1]), int(m[2]), lineno
            m = TABLE_FOOTNOTE.match(text)
            if m:
                comp.footnote, comp.footnote_line = int(m[1]), lineno
            prev_kind = kind
            continue
        if not in_table:
            fail(lineno, f"table row before the table header: {text!r}")
        if kind == "row":
            m = ROW.match(text)
            assert m is not None
            cells, trailing = split_cells(m[2], lineno, 3)
            printed = int(m[1])
            error_id = printed
            if lineno in ID_CORRECTIONS:
                want_printed, error_id = ID_CORRECTIONS[lineno]
                if printed != want_printed:
                    fail(lineno, f"ID_CORRECTIONS expects {want_printed}, seed has {printed}")
            row = Row(
                section=comp.section,
                component=comp.name,
                line=lineno,
                printed_id=printed,
                error_id=error_id,
                header_raw=cells[0],
                direction_raw=cells[1],
                reason_raw=cells[2],
                trailing_cell=trailing,
            )
            if trailing:
                stats["trailing-cell"].append(lineno)
            rows.append(row)
        else:  # continuation
            if prev_kind != "table-header":
                fail(lineno, "continuation line not directly after a page break")
            if not rows or rows[-1].section != comp.section:
                fail(lineno, "continuation line with no row to continue")
            m = CONTINUATION.match(text)
            assert m is not None
            cells, _ = split_cells(m[2], lineno, 3)
            row = rows[-1]
            if m[1]:
                add_fix(fixes, row, "stray-id-cell", f"line {lineno} starts with {m[1]!r}")
            if cells[1]:
                fail(lineno, "continuation carries a SIP Request/Response piece")
            pieces = []
            if cells[0]:
                row.header_raw = f"{row.header_raw} {cells[0]}"
                pieces.append(f"Header `{cells[0]}`")
            if cells[2]:
                if row.reason_raw.endswith("-") and row.reason_raw[-2:-1].isalpha():
                    row.reason_raw += cells[2]
                else:
                    row.reason_raw = f"{row.reason_raw} {cells[2]}"
                pieces.append(f"Reason `{cells[2]}`")
            if not pieces:
                fail(lineno, "empty continuation line")
            add_fix(
                fixes,
                row,
                "page-break-join",
                f"{' and '.join(pieces)} from line {lineno}",
            )
        prev_kind = kind

    move_spilled_words(rows, fixes)
    for row in rows:
        clean_row(row, fixes, stats)
    check_footnotes(rows, comps, fixes)
    check_order(rows, comps, fixes)
    return rows, comps, fixes, stats


def move_spilled_words(rows: list[Row], fixes: list[Fix]) -> None:
    for line, word in WORD_SPILLS.items():
        i = next((i for i, r in enumerate(rows) if r.line == line), None)
        if i is None or i == 0:
            fail(line, "WORD_SPILLS names a line that is no row")
        row, prev = rows[i], rows[i - 1]
        # The glued word runs straight into a capitalised sentence start.
        if not re.match(re.escape(word) + r"[A-Z]", row.reason_raw):
            fail(line, f"reason does not start with the glued word {word!r}")
        if not prev.reason_raw.endswith("."):
            fail(prev.line, "row receiving a spilled word does not end a sentence")
        row.reason_raw = row.reason_raw[len(word) :]
        prev.reason_raw = f"{prev.reason_raw[:-1]} {word}."
        add_fix(fixes, prev, "word-spill", f"`{word}` taken back from line {line}")
        add_fix(fixes, row, "word-spill", f"`{word}` moved to line {prev.line}")


def add_fix(fixes: list[Fix], row: Row, kind: str, detail: str) -> None:
    if kind not in FIX_KINDS:
        raise ExtractError(f"unknown fix kind {kind}")
    fixes.append(Fix(kind, row.line, row.error_id, detail))
    row.notes.append(f"{kind}: {detail}")


def clean_row(row: Row, fixes: list[Fix], stats: dict) -> None:
    # Header: the PDF breaks "ms-diagnostics" after the hyphen ("ms- diagnostics");
    # all whitespace inside the header name is such a break.
    header = re.sub(r"\s+", "", row.header_raw)
    if header != row.header_raw:
        stats["header-whitespace"] += 1
    if header != header.lower():
        add_fix(fixes, row, "header-case", f"printed `{row.header_raw.split()[0]}`")
        header = header.lower()
    if header not in HEADERS:
        fail(row.line, f"unknown header {row.header_raw!r}")
    row.header = header

    direction_raw, reason = row.direction_raw, row.reason_raw
    if direction_raw not in DIRECTIONS:
        m = re.match(r"^(Request|Response) (\S.*)$", direction_raw)
        if not m or reason:
            fail(row.line, f"bad SIP Request/Response cell {direction_raw!r}")
        direction_raw, reason = m[1], m[2]
        add_fix(fixes, row, "direction-cell", f"cell was `{row.direction_raw}`")
    row.direction = DIRECTIONS[direction_raw]

    for marker in FOOTNOTE_MARKERS:
        m = marker.search(reason)
        if not m:
            continue
        raw = m[0].strip()
        pre = m.groupdict().get("pre") or ""
        reason = reason[: m.start()] + (" " + pre if pre else "")
        if pre:
            add_fix(fixes, row, "latex-swallowed-text", f"`{raw}` keeps `{pre}`")
        if m.groupdict().get("n"):
            row.footnote = int(m["n"])
            add_fix(fixes, row, "footnote", f"`{raw}` -> {row.footnote}")
        else:
            row.footnote = -1  # resolved by check_footnotes
            row.notes.append(f"footnote-raw: `{raw}`")
        break

    stripped = HTML_TAG.sub("", reason)
    if stripped != reason:
        add_fix(fixes, row, "html", f"`{reason.strip()}`")
        reason = stripped
    unstopped = SPACE_BEFORE_STOP.sub(r"\1", reason)
    if unstopped != reason:
        add_fix(fixes, row, "space-before-stop", f"`{reason.strip()}`")
        reason = unstopped
    if '\\"' in reason:
        add_fix(fixes, row, "escaped-quote", f"`{reason.strip()}`")
        reason = reason.replace('\\"', '"')
    joined = SPLIT_HYPHEN.sub("-", reason)
    if joined != reason:
        words = ", ".join(f"`{w}`" for w in re.findall(r"\S+- \S+", reason))
        add_fix(fixes, row, "hyphen-join", words)
        reason = joined
    folded = "".join(LOOKALIKES.get(c, c) for c in reason)
    if folded != reason:
        bad = ", ".join(f"U+{ord(c):04X}" for c in reason if c in LOOKALIKES)
        add_fix(fixes, row, "lookalike", bad)
        reason = folded
    collapsed = re.sub(r"\s+", " ", reason).strip()
    if collapsed != reason.strip():
        add_fix(fixes, row, "whitespace", f"`{reason.strip()}`")
    reason = collapsed

    if not reason:
        fail(row.line, "empty reason")
    for c in reason:
        if not (" " <= c <= "~" or c in EXTRA_REASON_CHARS):
            fail(row.line, f"unexpected character U+{ord(c):04X} in reason {reason!r}")
    if re.search(r"[<>$\\&]|\s-\s*$", reason):
        fail(row.line, f"markup left in reason {reason!r}")
    row.reason = reason


def check_footnotes(rows: list[Row], comps: list[Component], fixes: list[Fix]) -> None:
    """Footnotes are numbered in document order: check that, and fill the one
    whose number was lost from its neighbours."""
    marks: list[tuple[int, Row | None, int | None]] = []
    for row in rows:
        if row.footnote is not None:
            marks.append((row.line, row, row.footnote))
    for comp in comps:
        if comp.footnote is not None:
            marks.append((comp.heading_line, None, comp.footnote))
    marks.sort(key=lambda m: m[0])
    for i, (line, row, n) in enumerate(marks):
        if n != -1:
            continue
        before = marks[i - 1][2] if i > 0 else None
        after = marks[i + 1][2] if i + 1 < len(marks) else None
        if before is None or after is None or after - before != 2:
            fail(line, "footnote number lost and not recoverable from its neighbours")
        assert row is not None
        row.footnote = before + 1
        raw = next(n for n in row.notes if n.startswith("footnote-raw: "))
        row.notes.remove(raw)
        add_fix(fixes, row, "footnote-inferred", f"{raw.split(': ', 1)[1]} -> {row.footnote}")
        marks[i] = (line, row, row.footnote)
    numbers = [m[2] for m in marks]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise ExtractError(f"footnote numbers not increasing in document order: {numbers}")


def check_order(rows: list[Row], comps: list[Component], fixes: list[Fix]) -> None:
    """Each table lists its ids in ascending order within the stated range.
    An equal neighbour is a duplicate (kept); anything else stops the script."""
    by_section: dict[str, list[Row]] = {}
    for row in rows:
        by_section.setdefault(row.section, []).append(row)
    for comp in comps:
        srows = by_section.get(comp.section, [])
        if not srows:
            raise ExtractError(f"section {comp.section} has no rows")
        for row in srows:
            if comp.low is not None and not comp.low <= row.error_id <= comp.high:
                fail(row.line, f"id {row.error_id} outside {comp.low}-{comp.high}")
        for a, b in zip(srows, srows[1:]):
            if b.error_id == a.error_id:
                add_fix(fixes, a, "duplicate-id", f"also at line {b.line}")
                add_fix(fixes, b, "duplicate-id", f"also at line {a.line}")
            elif b.error_id < a.error_id:
                fail(b.line, f"id {b.error_id} after {a.error_id}")
    for line, (printed, corrected) in ID_CORRECTIONS.items():
        row = next((r for r in rows if r.line == line), None)
        if row is None:
            fail(line, "ID_CORRECTIONS names a line that is no row")
        srows = by_section[row.section]
        i = srows.index(row)
        if not (0 < i < len(srows) - 1):
            fail(line, "corrected id has no neighbours to confirm it")
        if not (srows[i - 1].error_id == corrected - 1 and srows[i + 1].error_id == corrected + 1):
            fail(line, f"neighbours do not confirm {printed} -> {corrected}")
        add_fix(fixes, row, "id-typo", f"printed {printed}; neighbours are {corrected - 1} and {corrected + 1}")


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words; a lower-to-upper case change also splits,
    so a glued word ("handlerNo") and an identifier ("getMcu") split alike on
    both sides of a comparison."""
    return re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())


def verify_against_seed(rows: list[Row], lines: list[str]) -> None:
    """Independent re-check: the row's line starts with its printed id, and the
    reason's words occur in order in the seed text from that line on."""
    starts = sorted(r.line for r in rows)
    next_start = {a: b for a, b in zip(starts, starts[1:])}
    for row in rows:
        text = lines[row.line - 1]
        if not text.startswith(f"{row.printed_id}\t"):
            fail(row.line, f"does not start with {row.printed_id}")
        # Up to and including the next row's line: a continuation sits before
        # it, a spilled word on it.
        stop = min(next_start.get(row.line, row.line + 12), row.line + 12)
        haystack = words(" ".join(lines[row.line - 1 : stop]))
        pos = 0
        for word in words(row.reason):
            try:
                pos = haystack.index(word, pos) + 1
            except ValueError:
                fail(row.line, f"reason word {word!r} not found in order: {row.reason!r}")
        # The first two words must be on the row's own line.
        first = words(row.reason)[:2]
        own = words(text)
        if not all(w in own for w in first):
            fail(row.line, f"first words {first} not on the row's line")


def tsv_cell(value: str) -> str:
    if any(c in value for c in "\t\r\n"):
        raise ExtractError(f"TSV cell contains a tab or newline: {value!r}")
    return value


def render_entries(rows: list[Row]) -> str:
    out = ["\t".join(ENTRY_COLUMNS)]
    for r in rows:
        out.append(
            "\t".join(
                tsv_cell(v)
                for v in [
                    r.section,
                    r.component,
                    str(r.error_id),
                    r.header,
                    r.direction,
                    r.reason,
                    "" if r.footnote is None else str(r.footnote),
                    str(r.line),
                    "; ".join(r.notes),
                ]
            )
        )
    return "\n".join(out) + "\n"


def render_components(comps: list[Component]) -> str:
    out = ["\t".join(COMPONENT_COLUMNS)]
    for c in comps:
        if c.low is None:
            continue  # 7.1 and 8.1 state no range
        out.append(
            "\t".join(
                [
                    c.section,
                    c.name,
                    str(c.low),
                    str(c.high),
                    "" if c.footnote is None else str(c.footnote),
                    str(c.range_line),
                ]
            )
        )
    return "\n".join(out) + "\n"


def compress(lines: list[int]) -> str:
    """1,2,3,7 -> '1-3, 7'."""
    spans: list[str] = []
    for n in sorted(lines):
        if spans and "-" in spans[-1] and int(spans[-1].split("-")[1]) == n - 1:
            spans[-1] = f"{spans[-1].split('-')[0]}-{n}"
        elif spans and "-" not in spans[-1] and int(spans[-1]) == n - 1:
            spans[-1] = f"{spans[-1]}-{n}"
        else:
            spans.append(str(n))
    return ", ".join(spans)


def render_fixes(rows: list[Row], comps: list[Component], fixes: list[Fix], stats: dict) -> str:
    out = ["<!-- fixes:begin (generated by extract_catalogs.py; do not edit) -->", ""]
    counts: dict[str, int] = {}
    for sec in sorted({r.section for r in rows}, key=lambda s: tuple(map(int, s.split(".")))):
        counts[sec] = sum(1 for r in rows if r.section == sec)
    out.append("### Row counts")
    out.append("")
    out.append("| section | component | rows | stated range | range line |")
    out.append("|---|---|---|---|---|")
    for c in comps:
        rng = "none stated" if c.low is None else f"{c.low}\u2013{c.high}"
        where = str(c.range_line) if c.range_line else "\u2014"
        out.append(f"| {c.section} | {c.name} | {counts[c.section]} | {rng} | {where} |")
    n7 = sum(v for k, v in counts.items() if k.startswith("7."))
    n8 = sum(v for k, v in counts.items() if k.startswith("8."))
    out.append("")
    out.append(f"Section 7: {n7} rows. Section 8: {n8} rows.")
    out.append("")
    out.append("### Rules applied to every row")
    out.append("")
    out.append(
        f"- Header cell: all whitespace removed (the PDF breaks `ms-diagnostics` after a "
        f"hyphen, `ms- diagnostics`): {stats['header-whitespace']} rows."
    )
    out.append(
        "- Page footers (`[MS-OCER] \u2014 v20121003 ...`, `Copyright \u00a9 2012 ...`, "
        "`Release: October 8, 2012`), blank lines and the repeated `ErrorId\\tHeader\\t...` "
        "table header rows are skipped; any other unrecognised line stops the script."
    )
    out.append(
        "- A trailing empty cell (the row ends in a TAB) is ignored: lines "
        f"{compress(stats['trailing-cell'])}."
    )
    out.append(
        "- Section 8.8 states a table-wide footnote (line "
        + ", ".join(str(c.footnote_line) for c in comps if c.footnote is not None)
        + "); it is kept in `components.tsv`, not copied to each row."
    )
    out.append("- Reasons keep the spec's own spelling (e.g. `ConfPreprocessForForDispatchToMcu`);"
               " only conversion artifacts are changed.")
    out.append("")
    out.append("### Row fixes (spec line = the row's first line)")
    for kind, desc in FIX_KINDS.items():
        items = [f for f in fixes if f.kind == kind]
        out.append("")
        out.append(f"#### {kind} ({len(items)})")
        out.append("")
        out.append(desc)
        out.append("")
        if not items:
            out.append("None in sections 7 and 8.")
            continue
        out.append("| line | ErrorId | detail |")
        out.append("|---|---|---|")
        for f in sorted(items, key=lambda f: f.line):
            detail = f.detail.replace("|", "\\|")
            out.append(f"| {f.line} | {f.error_id} | {detail} |")
    out.append("")
    out.append("<!-- fixes:end -->")
    return "\n".join(out)


def splice_readme(readme: str, block: str) -> str:
    m = re.search(r"<!-- fixes:begin.*?<!-- fixes:end -->", readme, flags=re.S)
    if not m:
        raise ExtractError("README.md has no fixes:begin / fixes:end markers")
    return readme[: m.start()] + block + readme[m.end() :]


def find_seed(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("OCER_SEEDS_DIR")
    if env:
        return Path(env) / SEED_NAME
    return HERE.parent.parent.parent / "shared" / "seeds" / SEED_NAME


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", help="path to the MS-OCER seed text")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()

    seed = find_seed(args.seed)
    if not seed.is_file():
        print(f"extract_catalogs: seed not found: {seed} (use --seed or OCER_SEEDS_DIR)", file=sys.stderr)
        return 2
    lines = seed.read_text(encoding="utf-8").split("\n")
    try:
        rows, comps, fixes, stats = parse(lines)
        verify_against_seed(rows, lines)
        outputs = {
            LYNC_TSV: render_entries([r for r in rows if r.section.startswith("7.")]),
            OCS_TSV: render_entries([r for r in rows if r.section.startswith("8.")]),
            COMPONENTS_TSV: render_components(comps),
            README: splice_readme(
                README.read_text(encoding="utf-8"), render_fixes(rows, comps, fixes, stats)
            ),
        }
    except ExtractError as e:
        print(f"extract_catalogs: {e}", file=sys.stderr)
        return 1

    stale = []
    for path, text in outputs.items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        if args.check:
            stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"extract_catalogs: out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    n7 = sum(1 for r in rows if r.section.startswith("7."))
    n8 = len(rows) - n7
    print(f"extract_catalogs: {n7} rows in section 7, {n8} in section 8, {len(fixes)} fixes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
