#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks that a flame graph SVG is well-formed XML with the expected shape.

usage: check_xml.py FILE [EXPECTED_FRAMES]

Exits 0 when FILE parses, its root is an <svg>, and every frame group
(<g> under <g id="frames">) holds a <title>, a <rect> and a <text>.
With EXPECTED_FRAMES, the number of frame groups must match too.
"""
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        root = ET.parse(argv[1]).getroot()
    except (ET.ParseError, OSError) as e:
        print(f"{argv[1]}: {e}", file=sys.stderr)
        return 1
    if root.tag != SVG + "svg":
        print(f"{argv[1]}: root element is {root.tag}, not svg", file=sys.stderr)
        return 1
    groups = [g for g in root.iter(SVG + "g") if g.get("id") == "frames"]
    if len(groups) != 1:
        print(f"{argv[1]}: {len(groups)} frame groups, want 1", file=sys.stderr)
        return 1
    frames = list(groups[0])
    for i, g in enumerate(frames):
        for part in ("title", "rect", "text"):
            if g.find(SVG + part) is None:
                print(f"{argv[1]}: frame {i} has no <{part}>", file=sys.stderr)
                return 1
    if len(argv) == 3 and len(frames) != int(argv[2]):
        print(f"{argv[1]}: {len(frames)} frames, want {argv[2]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
