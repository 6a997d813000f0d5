#!/usr/bin/env python3
"""Checks that run.py rewrites only its own part of docs/performance.md."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "performance.md")


class ReplaceGenerated(unittest.TestCase):
    def test_keeps_everything_outside_the_markers(self):
        current = (f"# Performance\n\nintro kept\n\n{run.BEGIN}\nold table\nold notes\n{run.END}\n\n"
                   "## Web pages and the staff console\n\n| page | ms |\n|---|---:|\n| index | 245 |\n")
        out = run.replace_generated(current, "new table\n")
        self.assertEqual(out, current.replace("old table\nold notes\n", "new table\n"))

    def test_the_shipped_document_survives_a_rewrite_with_its_own_text(self):
        with open(DOC, encoding="utf-8") as f:
            current = f.read()
        inner = current.split(run.BEGIN + "\n", 1)[1].split(run.END, 1)[0]
        self.assertIn("## Web pages and the staff console", current.split(run.END, 1)[1])
        self.assertEqual(run.replace_generated(current, inner), current)
        changed = run.replace_generated(current, "x")
        self.assertEqual(changed.split(run.END, 1)[1], current.split(run.END, 1)[1])
        self.assertEqual(changed.split(run.BEGIN, 1)[0], current.split(run.BEGIN, 1)[0])

    def test_missing_or_repeated_markers_are_refused(self):
        with self.assertRaisesRegex(ValueError, "found 0 and 0"):
            run.replace_generated("# Performance\n\nhand-written\n", "x")
        with self.assertRaisesRegex(ValueError, "found 2 and 1"):
            run.replace_generated(f"{run.BEGIN}\n{run.BEGIN}\n{run.END}\n", "x")
        with self.assertRaisesRegex(ValueError, "comes before"):
            run.replace_generated(f"{run.END}\n{run.BEGIN}\n", "x")


if __name__ == "__main__":
    unittest.main()
