#!/usr/bin/env python3
"""Turns every ```cpp block of README.md into a C++ file that compiles and links on its own,
so a README example that drifts from the API fails scripts/test.sh.

  tests/readme/snippets.py README.md OUT_DIR     writes OUT_DIR/snippet_<line>.cpp, prints the names

Each file includes <tapegrad/tapegrad.h> and uses namespace tg (as the README's first example
does); the block's own #include and using lines go on top. A block that defines a type or a
function (struct/class/template or a function head at the start of a line) stays at namespace
scope; any other block is a list of statements and becomes the body of a function. A block
with a doctest TEST_CASE gets doctest's own main. #line directives point compiler
errors at README.md's own lines. The programs are compiled and linked, not run (some read
data sets).
"""
import os
import re
import sys


def blocks(readme):
    """(first line number, lines) of each ```cpp block."""
    found, current, start = [], None, 0
    with open(readme, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if current is None and line.strip() == "```cpp":
                current, start = [], number + 1
            elif current is not None and line.strip() == "```":
                found.append((start, current))
                current = None
            elif current is not None:
                current.append(line)
    if current is not None:
        sys.exit(f"snippets: {readme}:{start - 1}: a ```cpp block is never closed")
    return found


def program(readme, start, lines, name):
    head = ["#include <tapegrad/tapegrad.h>", "using namespace tg;"]
    body = []
    for number, line in enumerate(lines, start):
        if line.startswith("#include") or line.startswith("using namespace"):
            if line not in head:
                head.append(line)
        else:
            body.append((number, line))
    definition = r"(struct|class|template)\b|TEST_CASE\(|[A-Za-z_][\w:<>,&* ]* [\w:]+\(.*\) *(const *)?\{$"
    at_namespace_scope = any(re.match(definition, line) for _, line in body)
    has_tests = any(line.startswith("TEST_CASE(") for _, line in body)
    if has_tests:
        head = ["#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN", "#include <doctest/doctest.h>"] + head
    out = head + [f"namespace {name} {{"]
    if not at_namespace_scope:
        out.append("void run() {")
    expected = None
    for number, line in body:
        if number != expected:  # after a hoisted #include, or at the start
            out.append(f'#line {number} "{readme}"')
        out.append(line)
        expected = number + 1
    if not at_namespace_scope:
        out.append("}")
    out += [f"}}  // namespace {name}"]
    out += ([""] if has_tests else ["int main() { return 0; }", ""])
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().split("\n\n")[1])
    readme, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    found = blocks(readme)
    if not found:
        sys.exit(f"snippets: {readme} has no ```cpp block")
    for start, lines in found:
        name = f"snippet_{start}"
        with open(os.path.join(out_dir, name + ".cpp"), "w", encoding="utf-8") as f:
            f.write(program(os.path.abspath(readme), start, lines, name))
        print(name)


if __name__ == "__main__":
    main()
