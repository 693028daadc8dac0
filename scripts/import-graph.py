#!/usr/bin/env python3
"""The module import graph of a Rust crate's src/, and its import cycles.

Usage: scripts/import-graph.py [--edges] [SRC_DIR]   (default: reference-server/src)

A module is one file: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` is the
crate root. An edge A -> B means a path in A's code (a `use` or an inline
path) names B or an item inside it: `crate::...`, `super::...`, `self::...`
and `use` groups `{...}` are resolved to the longest known module prefix.
A `pub use` re-export is followed to the module that defines the item, so
`crate::AppState` counts as an edge to the module that holds `AppState`, not
to lib.rs. Comments are ignored, and so are string literals unless one is a
path (`deserialize_with = "crate::body::object"` names a module).

Prints the module and edge counts, then every strongly connected component
with more than one module (an import cycle): its size and members. With
--edges, also the edges inside each cycle, to see which imports hold it.
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_name(src, path):
    """`a/b.rs` and `a/b/mod.rs` -> `a::b`; lib.rs and main.rs -> the root."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return "crate" if parts == ["lib"] else "main"
    return "::".join(parts)


def strip_comments_and_strings(text):
    """Blank out comments, string and char literals, keeping the code."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"\w", text[i - 1 : i] or " "):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            start = i
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            # A path in a string is code: `deserialize_with = "crate::a::f"`.
            literal = text[start + 1 : i - 1]
            path = re.fullmatch(rf"(?:crate|super|self)(?:::{IDENT})+", literal)
            out.append(f'"{literal}"' if path else '""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:]):
            i += len(re.match(r"'(\\.[^']*|[^\\'])'", text[i:]).group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def inline_modules(text):
    """`mod name { ... }` blocks in a file: (start, end, name) each."""
    blocks = []
    for found in re.finditer(rf"\bmod\s+({IDENT})\s*\{{", text):
        depth, i = 1, found.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        blocks.append((found.start(), i, found.group(1)))
    return blocks


def expand_use_tree(tree):
    """`a::{b, c::{d, e}}` -> [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(r"\s+", "", tree)
    depth, cut = 0, None
    for k, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                cut = k
            depth += 1
        elif ch == "}":
            depth -= 1
    if cut is None:
        return [re.sub(r"\bas\w+$", "", tree)] if tree else []
    prefix, inner = tree[:cut], tree[cut + 1 : tree.rindex("}")]
    items, depth, start = [], 0, 0
    for k, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(inner[start:k])
            start = k + 1
    items.append(inner[start:])
    paths = []
    for item in items:
        for sub in expand_use_tree(item):
            paths.append(prefix.rstrip(":") if sub == "self" else prefix + sub)
    return paths


def absolute(module, path):
    """A path as written in `module` -> segments from the crate root, or None
    for a path into another crate."""
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    here = [] if module == "crate" else module.split("::")
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("self", "super"):
        base = list(here)
        while segs and segs[0] in ("self", "super"):
            if segs.pop(0) == "super":
                base = base[:-1]
        return base + segs
    return None


def main():
    args = sys.argv[1:]
    show_edges = "--edges" in args
    args = [a for a in args if a != "--edges"]
    src = Path(args[0] if args else "reference-server/src")
    files = sorted(p for p in src.rglob("*.rs"))
    code = {module_name(src, p): strip_comments_and_strings(p.read_text()) for p in files}
    modules = set(code)

    # Use trees and inline paths, per module, each with the module it is
    # written in: an inline `mod tests { use super::*; }` is inside the file's
    # module, so its `super` is the file's module.
    raw = {}
    for m, text in code.items():
        blocks = inline_modules(text)

        def written_in(pos):
            inner = [name for start, end, name in blocks if start < pos < end]
            return "::".join(([] if m == "crate" else [m]) + inner) or "crate"

        paths = []
        for use in re.finditer(r"\buse\s+([^;]+);", text):
            paths += [(written_in(use.start()), p) for p in expand_use_tree(use.group(1))]
        body = re.sub(r"\buse\s+[^;]+;", lambda u: " " * len(u.group(0)), text)
        for path in re.finditer(rf"\b(?:crate|super|self)(?:::{IDENT})+", body):
            paths.append((written_in(path.start()), path.group(0)))
        raw[m] = paths

    # Re-exports: (module, name) -> absolute path of what it names.
    reexports = {}
    for m, text in code.items():
        for tree in re.findall(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
            for p in expand_use_tree(tree):
                name = p.split("::")[-1]
                alias = re.search(rf"as({IDENT})$", p)
                p = re.sub(rf"as{IDENT}$", "", p)
                segs = absolute(m, p)
                if segs is None:
                    # A path relative to `m`: a child module or an item of it.
                    first = p.split("::")[0]
                    child = first if m == "crate" else f"{m}::{first}"
                    if child not in modules:
                        continue
                    segs = child.split("::") + p.split("::")[1:]
                reexports[(m, alias.group(1) if alias else name)] = segs

    def resolve(segs, seen=()):
        """Absolute segments -> the module that defines what they name."""
        best, k = "crate", 0
        for i in range(1, len(segs) + 1):
            if "::".join(segs[:i]) in modules:
                best, k = "::".join(segs[:i]), i
        if k < len(segs) and (best, segs[k]) in reexports and (best, segs[k]) not in seen:
            target = reexports[(best, segs[k])] + segs[k + 1 :]
            return resolve(target, seen + ((best, segs[k]),))
        return best

    edges = set()
    for m, paths in raw.items():
        for scope, p in paths:
            segs = absolute(scope, p)
            if segs is None:
                # `use x::y` where `x` is a child module of `m` (2018 paths).
                first = p.split("::")[0]
                child = first if scope == "crate" else f"{scope}::{first}"
                if child not in modules:
                    continue
                segs = child.split("::") + p.split("::")[1:]
            target = resolve(segs)
            if target != m:
                edges.add((m, target))

    # Tarjan's strongly connected components.
    graph = {m: sorted(t for s, t in edges if s == m) for m in modules}
    index, low, on, stack, sccs = {}, {}, set(), [], []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)

    cycles = sorted((c for c in sccs if len(c) > 1), key=lambda c: (-len(c), c))
    print(f"source: {src}")
    print(f"modules: {len(modules)}")
    print(f"edges: {len(edges)}")
    print(f"import cycles (strongly connected components of more than one module): {len(cycles)}")
    for c in cycles:
        print(f"- {len(c)} modules: {', '.join(c)}")
        if show_edges:
            for s, t in sorted(e for e in edges if e[0] in c and e[1] in c):
                print(f"    {s} -> {t}")
    if not cycles:
        print("- none")


if __name__ == "__main__":
    main()
