#!/usr/bin/env python3
"""Compare memleak-trace --malloc with valgrind's memcheck on the same command.

oracle_compare.py [--frames N] NAME=DIR...: each DIR holds one program's
  valgrind.xml   valgrind --tool=memcheck --leak-check=full
                 --show-leak-kinds=all --run-libc-freeres=no
                 --run-cxx-freeres=no --num-callers=12 --xml=yes --xml-file=...
  valgrind.log   that run's stderr with -v -v (where each module was
                 loaded: needed to place frames that have no name)
  memleak.json   memleak-trace --malloc --json -n 100000 --output ... -- CMD
Prints a table (program, bytes and blocks outstanding at the exit for
valgrind V and memleak-trace M, the share of V's bytes on the same stack),
the stacks where the two disagree most, then one JSON line per program
prefixed with "oracle: ". Python 3 standard library only.

What is compared:
- Outstanding at the exit: valgrind's loss records of every kind
  (definitely, indirectly, possibly lost, still reachable) count each block
  once by its direct bytes (a definitely lost record's <leakedbytes> also
  adds the blocks it reaches, which have records of their own);
  memleak-trace's are its final report's stacks of kind "malloc".
- Agreement: the share of valgrind's bytes that memleak-trace puts on a
  stack with the same innermost frames (4 by default). Stacks are keyed by
  those frames; for each key the bytes both sides give it, at most
  valgrind's, count as agreed.

The frame rule, so that the two tools' ways of listing a stack compare:
- Interpreter frames (PHP, Python: memleak-trace lists them before the
  native ones) are left out: valgrind sees only the native stack.
- Frames are taken per call site, not per function: a call site is one
  address and all the functions inlined there. valgrind lists inlined
  functions as frames of the same ip; memleak-trace marks them
  "inlined": true before the function they are inlined into. Each call
  site is named by that enclosing function only, so a module whose debug
  information one side read and the other did not (inlined frames, or
  none) still compares; the innermost N call sites are compared.
- The allocator's own call sites are dropped from the innermost end on
  both sides: anything in valgrind's vgpreload libraries, and functions
  named as the allocator's entry points (malloc, calloc, realloc, free,
  the memalign family, operator new, glibc's __libc_ and _int_ internals).
  The first other call site is the allocator's caller (strdup stays).
- A named call site matches by its function name (a symbol version such as
  @@GLIBC_2.2.5 dropped): both tools read the same symbol tables and debug
  files. An unnamed one matches by module file name and its address in the
  ELF file (what addr2line takes): valgrind's ip minus the module's load
  bias from its -v -v log, memleak-trace's "offset" minus one (valgrind
  shows the calling instruction, ret-1; memleak-trace the return address).
  A call site valgrind names and memleak-trace does not never matches
  (a name memleak-trace lost). One valgrind has no name for (it leaves
  assembly labels such as ld.so's _dl_start_user unnamed; memleak-trace
  names them from the debug file) matches a named one in the same module,
  after the stacks whose keys are equal have taken their bytes.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

VALGRIND_KINDS = ("Leak_DefinitelyLost", "Leak_IndirectlyLost", "Leak_PossiblyLost",
                  "Leak_StillReachable")
# The allocator's entry points, spelled as function_name() leaves them
# (__libc_malloc is libc_malloc), and its internal helpers by prefix.
ALLOCATOR_FUNCS = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "libc_malloc", "libc_calloc", "libc_realloc",
    "libc_reallocarray", "libc_memalign", "libc_valloc", "libc_pvalloc", "libc_free",
    "mid_memalign", "sysmalloc",
}
ALLOCATOR_PREFIXES = ("int_", "tcache_", "operator new", "operator delete")
DIRECT_RE = re.compile(r"\(([\d,]+) direct, [\d,]+ indirect\)")
AVMA_RE = re.compile(r"Reading syms from (\S+)\n\s*svma (0x[0-9a-f]+), avma (0x[0-9a-f]+)")


def function_name(name):
    """A name both tools give the same function: glibc exports one function
    under several names (strndup and __strndup, newlocale and __newlocale,
    hidden __GI_ copies, .localalias twins) and either tool may pick any of
    them for an address, so those spellings are one; the symbol version
    (@@GLIBC_2.2.5) goes too."""
    if not name:
        return name
    name = name.split("@", 1)[0]
    if name.endswith(".localalias"):
        name = name[:-len(".localalias")]
    if name.startswith("__GI_"):
        name = name[len("__GI_"):]
    return name.lstrip("_") or name


def is_allocator(site):
    module, name = site["module"] or "", site["name"]
    if module.startswith("vgpreload_"):
        return True
    if not name:
        return False
    return name in ALLOCATOR_FUNCS or name.startswith(ALLOCATOR_PREFIXES)


def site_key(site):
    return (site["module"], site["name"], None if site["name"] else site["vaddr"])


def site_text(key):
    module, name, vaddr = key
    if name:
        return name
    return "%s+%s" % (module or "[unknown]", "0x%x" % vaddr if vaddr is not None else "?")


def stack_key(sites, depth):
    """The innermost `depth` call sites past the allocator's own."""
    i = 0
    while i < len(sites) and is_allocator(sites[i]):
        i += 1
    return tuple(site_key(s) for s in sites[i:i + depth])


def site_matches(v, m):
    """valgrind's call site v is memleak-trace's m (exact keys aside)."""
    if v[1]:
        return v[1] == m[1]
    # valgrind names no assembly label (ld.so's _dl_start_user): where it
    # has no name, memleak-trace's name in the same module is not checked.
    return v[0] == m[0] and (m[1] is not None or v[2] == m[2])


def stacks_match(vk, mk):
    return len(vk) == len(mk) and all(site_matches(v, m) for v, m in zip(vk, mk))


# ------------------------------------------------------------------ valgrind

def load_biases(log_path):
    """Module path -> load bias (avma - svma) from valgrind's -v -v log."""
    try:
        with open(log_path, errors="replace") as f:
            text = f.read()
    except OSError:
        return {}
    text = re.sub(r"(?m)^--\d+-- ", "", text)
    return {m.group(1): int(m.group(3), 16) - int(m.group(2), 16) for m in AVMA_RE.finditer(text)}


def valgrind_sites(stack, biases):
    """One call site per ip: its last frame is the enclosing function."""
    sites, last_ip = [], None
    for fr in stack.findall("frame"):
        ip = int(fr.findtext("ip"), 16)
        obj = fr.findtext("obj")
        site = {"module": os.path.basename(obj) if obj else None,
                "name": function_name(fr.findtext("fn")),
                "vaddr": ip - biases[obj] if obj in biases else None}
        if ip == last_ip:
            sites[-1] = site
        else:
            sites.append(site)
        last_ip = ip
    return sites


def record_bytes(err):
    """A loss record's own blocks' bytes, without the blocks they reach."""
    text = err.findtext("xwhat/text") or ""
    m = DIRECT_RE.search(text)
    if m:
        return int(m.group(1).replace(",", ""))
    return int(err.findtext("xwhat/leakedbytes"))


def load_valgrind(xml_path, log_path):
    """Loss records: [(bytes, blocks, sites)]."""
    biases = load_biases(log_path)
    root = ET.parse(xml_path).getroot()
    records = []
    for err in root.iter("error"):
        if err.findtext("kind") not in VALGRIND_KINDS:
            continue
        blocks = int(err.findtext("xwhat/leakedblocks"))
        records.append((record_bytes(err), blocks, valgrind_sites(err.find("stack"), biases)))
    return records


# ------------------------------------------------------------- memleak-trace

def memleak_sites(frames):
    """One call site per non-inlined native frame; inlined ones precede it."""
    sites = []
    for i, fr in enumerate(f for f in frames if f.get("kind", "native") == "native"):
        if fr.get("inlined"):
            continue
        vaddr = None
        if not fr.get("symbol"):
            # The return address, one past valgrind's calling instruction.
            vaddr = fr["offset"] - 1 if i > 0 else fr["offset"]
        sites.append({"module": fr.get("module"), "name": function_name(fr.get("symbol")),
                      "vaddr": vaddr})
    return sites


def final_report(json_path):
    report = None
    with open(json_path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                obj = json.loads(line)
                if obj.get("event") == "final_report":
                    report = obj
    if report is None:
        raise ValueError("%s: no final_report line" % json_path)
    if len(report["stacks"]) < report["summary"]["stacks"]:
        raise ValueError("%s: %d of %d stacks listed: run memleak-trace with -n 100000"
                         % (json_path, len(report["stacks"]), report["summary"]["stacks"]))
    return report


def load_memleak(json_path):
    """Malloc stacks: [(bytes, allocations, sites)]."""
    return [(s["bytes"], s["allocations"], memleak_sites(s["frames"]))
            for s in final_report(json_path)["stacks"] if s["kind"] == "malloc"]


# ---------------------------------------------------------------- comparing

def bytes_by_key(records, depth):
    out = {}
    for nbytes, _, sites in records:
        k = stack_key(sites, depth)
        out[k] = out.get(k, 0) + nbytes
    return out


def agree(vk, mk):
    """Bytes of valgrind's (per stack key) that memleak-trace has on a
    matching stack: equal keys first, so that a loose match (a site
    valgrind has no name for) never takes bytes an equal key needs.
    Returns (agreed, valgrind's left unmatched, memleak-trace's left)."""
    left, short, agreed = dict(mk), {}, 0
    for k, b in vk.items():
        take = min(b, left.get(k, 0))
        agreed += take
        if take:
            left[k] -= take
        if b > take:
            short[k] = b - take
    for k in list(short):
        for mkey in left:
            if short[k] and left[mkey] and stacks_match(k, mkey):
                take = min(short[k], left[mkey])
                agreed, short[k], left[mkey] = agreed + take, short[k] - take, left[mkey] - take
    return agreed, short, left


def largest(by_key, n=5):
    rows = sorted(((b, k) for k, b in by_key.items() if b > 0), reverse=True)[:n]
    return [{"bytes": b, "stack": [site_text(s) for s in k]} for b, k in rows]


def compare(name, directory, depth):
    v = load_valgrind(os.path.join(directory, "valgrind.xml"), os.path.join(directory, "valgrind.log"))
    m = load_memleak(os.path.join(directory, "memleak.json"))
    v_bytes = sum(r[0] for r in v)
    agreed, short, extra = agree(bytes_by_key(v, depth), bytes_by_key(m, depth))
    return {
        "program": name, "frames": depth,
        "valgrind_bytes": v_bytes, "memleak_bytes": sum(r[0] for r in m),
        "valgrind_blocks": sum(r[1] for r in v), "memleak_blocks": sum(r[1] for r in m),
        "agreed_bytes": agreed,
        "agreement_pct": round(100.0 * agreed / v_bytes, 2) if v_bytes else 100.0,
        # Where they differ, largest first, for the reader.
        "valgrind_only": largest(short),
        "memleak_only": largest(extra),
    }


def print_table(results):
    print("%-10s %12s %12s %8s %8s %9s" % ("program", "bytes V", "bytes M", "blocks V", "blocks M",
                                           "agree %"))
    for r in results:
        print("%-10s %12d %12d %8d %8d %9.2f" % (r["program"], r["valgrind_bytes"], r["memleak_bytes"],
                                                 r["valgrind_blocks"], r["memleak_blocks"],
                                                 r["agreement_pct"]))


def print_disagreements(results):
    for r in results:
        if not r["valgrind_only"]:
            continue
        print("\n%s: valgrind's bytes memleak-trace has elsewhere (top %d); then what it has instead"
              % (r["program"], len(r["valgrind_only"])))
        for side, rows in (("V", r["valgrind_only"]), ("M", r["memleak_only"])):
            for row in rows:
                print("  %s %9d  %s" % (side, row["bytes"], " <- ".join(row["stack"]) or "[no frames]"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--frames", type=int, default=4, help="innermost call sites compared (4)")
    ap.add_argument("programs", nargs="+", metavar="NAME=DIR")
    args = ap.parse_args()
    results = []
    for spec in args.programs:
        name, _, directory = spec.partition("=")
        results.append(compare(name, directory or name, args.frames))
    print_table(results)
    print_disagreements(results)
    for r in results:
        print("oracle: " + json.dumps(r, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
