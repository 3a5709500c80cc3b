#!/usr/bin/env python3
"""Fails when a comment or document cites something the repository does not contain.

Usage: tools/check-citations.py [ROOT]        (ROOT defaults to the repository root)

Scans src/, tests/, bench/, tools/, docs/ and README.md under ROOT. A citation is
  * `docs/<name>.md`: the file must exist;
  * `docs/<name>.md \u00a7N[.N]` (also `<name>.md \u00a7N`, meaning the page in docs/): that file
    must have a heading numbered N[.N] (`## 2. ...`, `### 2.1 ...`);
  * `contract \u00a7N[.N]`: a numbered heading of docs/contract.md, the compatibility contract;
  * in a Markdown file, a bare `\u00a7N` with no document named before it: a heading of that file.
Further section numbers that continue a citation (`\u00a72.5, \u00a72.6`, `\u00a74.3-4.7`,
`\u00a74.3 tail and \u00a75.2`) are checked against the same document; numbers after `RFC NNNN` are
not ours and are skipped. Citations of documents outside the repository always fail: the
behaviour notes ctrdns started from ("spec \u00a7N", their file name aardvark-behavior[.]md, their
appendix) and absolute paths into the shared work area. tools/repoint-citations.py rewrites the old
forms.

Comment markers are removed and lines joined before matching, so a citation wrapped across two
comment lines is still one citation. Exit status: 0 clean, 1 with one `file:line: problem` per
bad citation on stdout, 2 on a usage error. Python 3 standard library only.
"""

import os
import re
import sys

SCANNED_DIRS = ("src", "tests", "bench", "tools", "docs")
SCANNED_FILES = ("README.md",)
SKIPPED_DIRS = {"corpus", "data", "build", "__pycache__", ".git"}

SECTION = "\u00a7"
NUMBER = r"\d+(?:\.\d+)*"

# Where a section number's document is named. Longest alternatives first.
DESIGNATOR = re.compile(
    r"(?P<rfc>\bRFC\s*\d+)"
    r"|(?P<docs>\bdocs/[\w.+-]+?\.md)"
    r"|(?P<external>\baardvark-behavior\.md|/w[o]rk/[\w./+-]*)"
    r"|(?P<bare>\b[\w+-]+\.md)"
    r"|(?P<contract>\b[Cc]ontract(?:'s)?(?=\s))"
    r"|(?P<spec>\b[Ss]pec(?:'s)?(?=\s+(?:" + SECTION + r"|appendix\b)))",
)
SECTION_REF = re.compile(SECTION + r"\s*(?P<first>" + NUMBER + r")(?:\s*[-\u2013]\s*(?P<last>"
                         + NUMBER + r"))?")
# What may stand between a document's name and a section number that still belongs to it:
# other section numbers, separators and a few words ("step 4.2", "tail and", quoted labels).
CONTINUATION = re.compile(r"^[\s\w.,/()\"'`\-\u2013" + SECTION + r"]*$")
MAX_GAP = 60
SENTENCE_END = re.compile(r"[.;:]\s|\)\.")

HEADING = re.compile(r"^#{1,6}\s+(" + NUMBER + r")\.?(?:\s|$)")
COMMENT_PREFIX = re.compile(r"^\s*(?:/{2,3}|#+|\*+)?\s?")


def numbered_sections(path):
    """The heading numbers of a Markdown file, outside fenced code blocks."""
    sections = set()
    in_fence = False
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            match = None if in_fence else HEADING.match(line)
            if match:
                sections.add(match.group(1))
    return sections


def joined_text(lines, markdown):
    """Lines joined by spaces with comment markers removed, and the line of every offset."""
    pieces = []
    line_of_offset = []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\n")
        if not markdown:
            text = COMMENT_PREFIX.sub("", text, count=1)
        text += " "
        pieces.append(text)
        line_of_offset.extend([number] * len(text))
    return "".join(pieces), line_of_offset


def is_text(data):
    return b"\0" not in data[:8192]


class Checker:
    def __init__(self, root):
        self.root = root
        self.section_cache = {}
        self.problems = []

    def sections_of(self, relative):
        if relative not in self.section_cache:
            path = os.path.join(self.root, relative)
            self.section_cache[relative] = numbered_sections(path) if os.path.isfile(path) else None
        return self.section_cache[relative]

    def report(self, relative, line, message):
        self.problems.append(f"{relative}:{line}: {message}")

    def check_section(self, relative, line, document, number, cited_as):
        sections = self.sections_of(document)
        if sections is None:
            self.report(relative, line, f"{cited_as}: {document} does not exist")
        elif number not in sections:
            self.report(relative, line, f"{cited_as}: {document} has no section {number}")

    def check_file(self, relative):
        path = os.path.join(self.root, relative)
        with open(path, "rb") as handle:
            data = handle.read()
        if not is_text(data):
            return
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        markdown = relative.endswith(".md")
        text, line_of = joined_text(lines, markdown)

        designators = list(DESIGNATOR.finditer(text))
        for match in designators:
            line = line_of[match.start()]
            kind = match.lastgroup
            if kind == "external":
                self.report(relative, line, f"'{match.group()}': not in the repository "
                            "(cite docs/contract.md or another docs/ page)")
            elif kind == "spec":
                self.report(relative, line, f"'{match.group()} {SECTION}...': the external spec; "
                            "cite 'contract " + SECTION + "N' (tools/repoint-citations.py)")
            elif kind == "docs":
                document = match.group()
                if not os.path.isfile(os.path.join(self.root, document)):
                    self.report(relative, line, f"{document} does not exist")

        for ref in SECTION_REF.finditer(text):
            owner = self.owner_of(text, ref.start(), designators)
            line = line_of[ref.start()]
            numbers = [ref.group("first")] + ([ref.group("last")] if ref.group("last") else [])
            if owner is None:
                if markdown:
                    for number in numbers:
                        self.check_section(relative, line, relative, number, ref.group())
                continue
            kind, name = owner
            if kind == "docs":
                document = name
            elif kind == "bare":
                document = "docs/" + name
            elif kind == "contract":
                document = "docs/contract.md"
            else:  # rfc: not ours; external and spec: reported above
                continue
            for number in numbers:
                self.check_section(relative, line, document, number,
                                   f"'{text[owner_start(text, ref.start(), name):ref.end()]}'")

    @staticmethod
    def owner_of(text, position, designators):
        """The designator a section number at `position` belongs to, or None."""
        best = None
        for match in designators:
            if match.end() > position:
                break
            best = match
        if best is None:
            return None
        gap = text[best.end():position]
        if len(gap) > MAX_GAP or not CONTINUATION.match(gap) or SENTENCE_END.search(gap):
            return None
        return best.lastgroup, best.group()

    def run(self):
        for relative in self.files():
            self.check_file(relative)
        return self.problems

    def files(self):
        for top in SCANNED_DIRS:
            base = os.path.join(self.root, top)
            for directory, subdirectories, names in os.walk(base):
                subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
                for name in sorted(names):
                    yield os.path.relpath(os.path.join(directory, name), self.root)
        for name in SCANNED_FILES:
            if os.path.isfile(os.path.join(self.root, name)):
                yield name


def owner_start(text, position, name):
    """Start of the cited document's name before `position`, for a readable message."""
    start = text.rfind(name, 0, position)
    return start if start >= 0 else position


def main(argv):
    if len(argv) > 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    if not os.path.isdir(os.path.join(root, "docs")):
        print(f"check-citations: {root} has no docs/ directory", file=sys.stderr)
        return 2
    problems = Checker(root).run()
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-citations: {len(problems)} bad citation(s)", file=sys.stderr)
        return 1
    print("check-citations: every citation resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
