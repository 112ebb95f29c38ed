#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks that the code blocks of a document that name a file of the repository show it whole.

A block written as

  .. code-block:: LANG
     :caption: PATH

     <the file, indented by three spaces>

must be the file at PATH (relative to the repository), byte for byte after the indentation is
removed: the guide's examples are built and tested files, and cannot drift from them.

  doc_check.py ROOT DOC...            TAP on stdout, one result per captioned block
  doc_check.py --update ROOT DOC...   rewrites the blocks from their files (after a change)
"""

import os
import re
import sys


def blocks(text):
    """(line number, path, content) of every captioned code block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"\.\. code-block:: \S+$", lines[i])
        c = re.match(r"   :caption: (\S+)$", lines[i + 1]) if m and i + 1 < len(lines) else None
        if not c:
            i += 1
            continue
        start, j = i + 1, i + 2
        if j < len(lines) and lines[j] == "":
            j += 1
        body = []
        while j < len(lines) and (lines[j] == "" or lines[j].startswith("   ")):
            body.append(lines[j][3:])
            j += 1
        while body and body[-1] == "":
            body.pop()
        yield start, c.group(1), "\n".join(body) + "\n"
        i = j


def update(root, doc):
    """Rewrites every captioned block of `doc` with its file."""
    with open(doc) as f:
        lines = f.read().split("\n")
    out, i = [], 0
    for start, path, content in blocks("\n".join(lines)):
        end = start + 1
        while end + 1 < len(lines) and (lines[end + 1] == "" or lines[end + 1].startswith("   ")):
            end += 1
        while lines[end] == "":
            end -= 1
        with open(os.path.join(root, path)) as f:
            body = f.read().rstrip("\n").split("\n")
        out += lines[i:start + 1] + [""] + [("   " + l) if l else "" for l in body]
        i = end + 1
    out += lines[i:]
    with open(doc, "w") as f:
        f.write("\n".join(out))


def main():
    if sys.argv[1] == "--update":
        for doc in sys.argv[3:]:
            update(sys.argv[2], doc)
        return 0
    root, docs = sys.argv[1], sys.argv[2:]
    results = []
    for doc in docs:
        with open(doc) as f:
            text = f.read()
        for line, path, content in blocks(text):
            name = f"{os.path.relpath(doc, root)}:{line}: the block shows {path} whole"
            try:
                with open(os.path.join(root, path)) as f:
                    want = f.read()
            except OSError as e:
                results.append((False, name, f"cannot read it: {e.strerror}"))
                continue
            if content == want:
                results.append((True, name, ""))
            else:
                got, exp = content.split("\n"), want.split("\n")
                at = next((k for k, (a, b) in enumerate(zip(got, exp)) if a != b),
                          min(len(got), len(exp)))
                results.append((False, name, f"differs at its line {at + 1}"))
    if not results:
        results.append((False, "the documents have captioned code blocks", "none found"))
    print("TAP version 13")
    print(f"1..{len(results)}")
    for n, (ok, name, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {n} - {name}{' # ' + why if why else ''}")
    return 0 if all(r[0] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
