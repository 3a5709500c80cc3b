#!/usr/bin/env python3
"""Self-test of tools/check-citations.py and tools/repoint-citations.py on small temporary trees.

Usage: tests/tools/citations_test.py [REPOSITORY_ROOT]. Python 3 standard library only.
The planted bad citations below are spelt with escapes ("\\u00a7", a split file name) so that this
file itself passes the checker when it scans tests/.
"""

import os
import subprocess
import sys
import tempfile
import unittest

S = "\u00a7"
ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKER = os.path.join(ROOT, "tools", "check-citations.py")
REPOINTER = os.path.join(ROOT, "tools", "repoint-citations.py")

CONTRACT = "# Contract\n\n## 2. Lifecycle\n\n### 2.1 run\n\n### 2.3 reload\n\n## 4. DNS\n\n### 4.5 PTR\n"
OTHER = ("# Other\n\nSee " + S + "1 and the contract (`docs/contract.md` " + S + "2.1).\n\n"
         "## 1. Rules\n\n### 1.2 Never empty\n\n```\n## 9. not a heading inside a fence\n```\n")
NOTES_NAME = "aardvark-" + "behavior.md"
OTHER_DOC = "docs/" + "other.md"  # exists only in the temporary trees


class Tree:
    """A minimal repository: docs/contract.md, a second page and one source file."""

    def __init__(self, source, other=OTHER):
        self.directory = tempfile.TemporaryDirectory()
        self.root = self.directory.name
        self.write("docs/contract.md", CONTRACT)
        self.write(OTHER_DOC, other)
        self.write("src/a.cpp", source)

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    def read(self, relative):
        with open(os.path.join(self.root, relative), encoding="utf-8") as handle:
            return handle.read()

    def check(self):
        result = subprocess.run([sys.executable, CHECKER, self.root], capture_output=True,
                                text=True, check=False)
        return result.returncode, result.stdout

    def repoint(self):
        subprocess.run([sys.executable, REPOINTER, self.root], capture_output=True, text=True,
                       check=True)

    def close(self):
        self.directory.cleanup()


class CheckCitationsTest(unittest.TestCase):
    def assert_verdict(self, source, expected_status, expected_text=None, other=OTHER):
        tree = Tree(source, other)
        try:
            status, output = tree.check()
            self.assertEqual(status, expected_status, output)
            if expected_text is not None:
                self.assertIn(expected_text, output)
        finally:
            tree.close()

    def test_good_citations_pass(self):
        self.assert_verdict(
            "// contract " + S + "2.1 step 3, " + S + "2.3 step 5 (" + OTHER_DOC + " " + S + "1.2)\n"
            "// Contract " + S + "4.5. RFC 1035 " + S + "4.1.4 / " + S + "4.4 is not ours.\n"
            "// docs/contract.md " + S + "2; see " + OTHER_DOC + "; a range: contract " + S + "2.1-2.3\n"
            "// wrapped across lines: contract\n// " + S + "4.5 and other.md " + S + "1\n", 0)

    def test_missing_contract_section_fails(self):
        self.assert_verdict("// contract " + S + "3.1\n", 1, "src/a.cpp:1:")

    def test_missing_section_after_a_comma_fails(self):
        self.assert_verdict("int x; // contract " + S + "2.1, " + S + "2.2\n", 1, "no section 2.2")

    def test_missing_range_end_fails(self):
        self.assert_verdict("// contract " + S + "2.1-2.9\n", 1, "no section 2.9")

    def test_missing_document_fails(self):
        self.assert_verdict("\n// see docs/" + "missing.md\n", 1, "src/a.cpp:2:")

    def test_missing_document_section_fails(self):
        self.assert_verdict("// " + OTHER_DOC + " " + S + "1.5\n", 1, "no section 1.5")

    def test_heading_inside_code_fence_does_not_count(self):
        self.assert_verdict("// " + OTHER_DOC + " " + S + "9\n", 1, "no section 9")

    def test_external_spec_fails(self):
        self.assert_verdict("// spec " + S + "2.1\n", 1, "external spec")

    def test_external_spec_wrapped_across_comment_lines_fails(self):
        self.assert_verdict("x();\n// the contract netavark relies on (spec\n// " + S + "2.1)\n", 1,
                            "src/a.cpp:2:")

    def test_external_notes_file_fails(self):
        self.assert_verdict("# " + NOTES_NAME + " " + S + "3.2\n", 1, "not in the repository")

    def test_bare_section_in_markdown_is_checked_against_its_own_headings(self):
        self.assert_verdict("", 1, OTHER_DOC, other=OTHER + "\nSee " + S + "7.\n")


class RepointCitationsTest(unittest.TestCase):
    def test_repoint_makes_old_citations_resolve(self):
        tree = Tree("// Spec " + S + "4.5 and spec " + S + "2.1 step c/d\n"
                    "// (spec\n// " + S + "2.3) and spec " + NOTES_NAME + " " + S + "2.1\n"
                    "// the spec's " + S + "4.5\n")
        try:
            self.assertEqual(tree.check()[0], 1)
            tree.repoint()
            status, output = tree.check()
            self.assertEqual(status, 0, output)
            text = tree.read("src/a.cpp")
            self.assertIn("Contract " + S + "4.5", text)
            self.assertIn("contract " + S + "2.1 steps 4-6", text)
            self.assertIn("(contract\n// " + S + "2.3)", text)
            before = text
            tree.repoint()
            self.assertEqual(tree.read("src/a.cpp"), before, "a second run changes nothing")
        finally:
            tree.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=1)
