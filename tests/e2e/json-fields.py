#!/usr/bin/env python3
"""Check JSON lines against the documented fields of tests/e2e/json-fields.txt.

json-fields.py SCHEMA DOC TOOL FILE...: every line of FILE whose kind
the schema lists must carry every field listed for it (null allowed);
every listed field must be named in DOC (the tool's man page source, whose
scdoc markup is read through). Prints what is missing and
exits 1; also fails when a kind listed in the schema never occurred."""
import json
import re
import sys


def load_schema(path, tool):
    rules, cur = [], None
    for raw in open(path):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[0].isspace():
            name, sel, *fields = line.split()
            cur = (name, sel, fields) if name == tool else None
            if cur:
                rules.append(cur)
        elif cur:
            cur[2].extend(line.split())
    return rules


def selected(obj, sel):
    for cond in sel.split(","):
        if cond.startswith("!"):
            if cond[1:] in obj:
                return False
        elif "=" in cond:
            k, vals = cond.split("=", 1)
            if str(obj.get(k)) not in vals.split("|"):
                return False
        elif cond not in obj:
            return False
    return True


def missing(obj, path):
    """Parts of path absent from obj; a null or absent parent skips."""
    head, _, rest = path.partition(".")
    is_arr = head.endswith("[]")
    key = head[:-2] if is_arr else head
    if not isinstance(obj, dict):
        return []
    if key not in obj:
        # An absent parent is reported by its own entry, once.
        return [] if rest else [path]
    val = obj[key]
    if not rest and not is_arr:
        return []
    if val is None:
        return []
    if is_arr:
        if not isinstance(val, list):
            return [head + " (not an array)"]
        return [m for el in val for m in (missing(el, rest) if rest else [])]
    return missing(val, rest)


def plain(text):
    """scdoc's _underline_ and *bold* around a name, dropped: the name's own
    underscores stay (_oom_kill_ is oom_kill)."""
    text = re.sub(r"(?<![A-Za-z0-9])_([A-Za-z0-9][A-Za-z0-9_.]*?)_(?![A-Za-z0-9])", r"\1", text)
    return text.replace("*", " ")


def main():
    schema, docfile, tool, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    rules = load_schema(schema, tool)
    doc = plain(open(docfile).read())
    bad = []
    for _, sel, fields in rules:
        for f in fields:
            leaf = re.sub(r"\[\]", "", f.split(".")[-1])
            if not re.search(r"\b%s\b" % re.escape(leaf), doc):
                bad.append("%s does not name %s (%s)" % (docfile, f, sel))
    seen = set()
    for fn in files:
        for n, text in enumerate(open(fn, encoding="utf-8", errors="surrogateescape"), 1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError as e:
                bad.append("%s:%d: not JSON: %s" % (fn, n, e))
                continue
            for _, sel, fields in rules:
                if not selected(obj, sel):
                    continue
                seen.add(sel)
                for f in fields:
                    for m in missing(obj, f):
                        bad.append("%s:%d: %s line lacks %s" % (fn, n, sel, m))
    for _, sel, _ in rules:
        if sel not in seen:
            bad.append("no %s line of %s was produced" % (sel, tool))
    for b in sorted(set(bad)):
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
