"""Seeds for fuzz_pylines and fuzz_interp from this machine's CPython: the
line tables of real code objects (tests/workloads/leak_lines.py's), as the
BPF side copies them (bpf/interp.h). usage: py_seeds.py OUTDIR"""
import struct
import sys

VERSIONS = [0x308, 0x309, 0x30a, 0x30b, 0x30c, 0x30d, 0x30e]
INTERP_PYTHON, MAX_FRAMES, NAME_LEN, FILE_LEN, LINES_LEN = 2, 8, 64, 96, 512


def code_objects(path):
    top = compile(open(path).read(), path, "exec")
    todo = [top]
    while todo:
        co = todo.pop()
        yield co
        todo += [c for c in co.co_consts if hasattr(c, "co_linetable")]


def table(co):
    return co.co_linetable if sys.version_info >= (3, 10) else co.co_lnotab


def frame(co, instr):
    return struct.pack(f"{NAME_LEN}s{NAME_LEN}s{FILE_LEN}sIIQiI", co.co_name.encode(), b"",
                       co.co_filename.encode(), co.co_firstlineno, 0, id(co), instr, 0)


def main(out):
    ver = sys.version_info[0] << 8 | sys.version_info[1]
    cos = list(code_objects("tests/workloads/leak_lines.py"))
    for i, co in enumerate(cos[:4]):
        t = table(co)
        head = struct.pack("<BIi", VERSIONS.index(ver), len(t), co.co_firstlineno)
        open(f"{out}/pylines_{i}", "wb").write(head + t)
        frames = [frame(co, 4)] * 2 + [b"\0" * len(frame(co, 0))] * (MAX_FRAMES - 2)
        stack = struct.pack("<6I", INTERP_PYTHON, ver, 1, 2, 0, 0) + b"".join(frames)
        lines = struct.pack("<4I", co.co_firstlineno, len(t), min(len(t), LINES_LEN), 0)
        open(f"{out}/interp_{i}", "wb").write(stack + lines + t[:LINES_LEN])


main(sys.argv[1])
