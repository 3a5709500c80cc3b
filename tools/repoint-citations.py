#!/usr/bin/env python3
"""Re-points citations of the external behaviour notes at docs/contract.md, in place.

Usage: tools/repoint-citations.py [ROOT]      (ROOT defaults to the repository root)

The code used to cite notes that live outside the repository ("spec \u00a7N.N", their file name,
their appendix). docs/contract.md keeps their section numbers, so every such citation becomes
"contract \u00a7N.N" with the same number. A few citations whose step numbering or target changed are
rewritten individually (see REWRITES), and the old stale-entries citations get the numbered
sections docs/stale-entries.md now has. Idempotent: a second run changes nothing. Prints each file
it changed. Scans the same places as tools/check-citations.py, which must pass afterwards.
Changed C++ files are re-formatted with clang-format-14 (a longer citation can push a comment
past the column limit; tools/check-format.sh must stay green).
"""

import os
import re
import shutil
import subprocess
import sys

SCANNED_DIRS = ("src", "tests", "bench", "tools", "docs")
SCANNED_FILES = ("README.md",)
SKIPPED_DIRS = {"corpus", "data", "build", "__pycache__", ".git"}

S = "\u00a7"
# Whitespace that may separate two words of one citation, also across a line break inside a
# comment ("spec" at the end of one comment line, the section on the next).
GAP = r"(?P<gap>[ \t]*(?:\n[ \t]*(?:#+|/{2,3}|\*)?[ \t]*)?)"
NOTES = r"`?aardvark-behavior\.md`?"

# (pattern, replacement), applied in order. Specific forms first, the generic ones last.
REWRITES = [
    # Step labels that changed: contract §2.1 numbers the start-up steps 1-8.
    (re.compile(S + r"2\.1 step c/d"), S + "2.1 steps 4-6"),
    (re.compile(S + r"2\.1 step 4\.2"), S + "2.1 step 3"),
    # docs/stale-entries.md: the rules are §1, "never empty an answer" §1.2, --fix §2.1.
    (re.compile(r"(?:docs/)?stale-entries(?:\.md)?`? " + S + r"2\.5 option E and " + S
                + r"2\.6 item 4"), "docs/stale-entries.md " + S + "1.2"),
    (re.compile(r"(?:docs/)?stale-entries(?:\.md)? " + S + r"2\.6 item 4"),
     "docs/stale-entries.md " + S + "1.2"),
    (re.compile(r"(?:docs/)?stale-entries\.md " + S + r"2\.6\b"), "docs/stale-entries.md " + S + "1"),
    (re.compile(r"docs/stale-entries\.md, \"--fix\""), "docs/stale-entries.md " + S + "2.1"),
    # The 1.4 double reply is stated in contract §4.5.
    (re.compile(r"\bspec(?P<gap>\s+)appendix A\b"), "contract\\g<gap>" + S + "4.5"),
    # Prose in docs/forwarding.md.
    (re.compile(r"as the spec requires"), "as contract " + S + "5.2 requires"),
    (re.compile(r"\bThe spec(?P<gap>\s+)allows this \(" + S), "The contract\\g<gap>allows this ("
     + S),
    (re.compile(r"\(spec test "), "(aardvark's tests "),
    (re.compile(r"only the ID and RA \(" + S + r"4\.7\)"), "only the ID and RA (contract " + S
     + "4.7)"),
    # The generic forms: "aardvark spec", "spec aardvark-behavior[.]md", "the spec's", "Spec" and
    # "spec", each followed by a section sign, possibly on the next comment line.
    (re.compile(r"\baardvark spec " + S), "contract " + S),
    (re.compile(r"\b(?:[Ss]pec" + GAP + r")?" + NOTES + r" " + S), "contract\\g<gap>" + S),
    (re.compile(r"\bthe spec's " + S), "contract " + S),
    (re.compile(r"\bspec's " + S), "contract " + S),
    (re.compile(r"\bSpec" + GAP + S), "Contract\\g<gap>" + S),
    (re.compile(r"\bspec" + GAP + S), "contract\\g<gap>" + S),
]


def files(root):
    for top in SCANNED_DIRS:
        for directory, subdirectories, names in os.walk(os.path.join(root, top)):
            subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
            for name in sorted(names):
                yield os.path.join(directory, name)
    for name in SCANNED_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            yield path


def repoint(text):
    for pattern, replacement in REWRITES:
        text = pattern.sub(replacement, text)
    return text


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    # Never its own patterns, whichever copy of the tree it runs on.
    this_file = os.path.join(root, "tools", "repoint-citations.py")
    changed = []
    for path in files(root):
        if os.path.abspath(path) == os.path.abspath(this_file):
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        if b"\0" in data[:8192]:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        new_text = repoint(text)
        if new_text != text:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(new_text)
            print(os.path.relpath(path, root))
            changed.append(path)
    print(f"repoint-citations: {len(changed)} file(s) changed", file=sys.stderr)
    cpp = [path for path in changed if path.endswith((".cpp", ".hpp"))]
    if cpp:
        formatter = shutil.which("clang-format-14")
        if formatter is None:
            print("repoint-citations: clang-format-14 not found; run it on the changed C++ files",
                  file=sys.stderr)
            return 1
        subprocess.run([formatter, "-i", *cpp], check=True, cwd=root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
