#!/usr/bin/env python3
"""memscope benchmark harness (run through scripts/bench).

Measures, side by side in one run, what the memscope tracers cost:
  1. the traced workload's speed with no tracer, under the empty-program
     floor on the same hooks, under the tool and under its bpftrace
     equivalent (alternating runs, median and min-max, ratios);
  2. the cost to an untraced process while the tool traces another pid;
  3. the highest event rate with zero events lost (the tool's own count);
  4. the tracers' CPU time and peak RSS, the report time over 1M
     outstanding allocations;
  5. oomwatch: kill-to-report latency and a storm of kills.
Prints one table and writes it as markdown to $MEMSCOPE_BUILD/bench.md
(raw numbers in bench.json); --docs FILE also puts it in FILE between the
markers of this kind of run (docs/benchmarks.md: make bench). Python 3
standard library only.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("MEMSCOPE_BUILD", "build"))
WL = os.path.join(BUILD, "bench", "bench-wl")
FLOOR = os.path.join(BUILD, "bench", "floor")
TOOLS = {t: os.path.join(BUILD, t) for t in ("memleak-trace", "sockleak", "oomwatch", "memscope-exporter")}
# MEMSCOPE_BENCH_BASE=DIR: the build directory of a baseline (another
# commit's tools), run as "base" rows next to "tool" in the same run.
BASE = os.environ.get("MEMSCOPE_BENCH_BASE")
if BASE:
    TOOLS.update({"base-" + t: os.path.join(BASE, t) for t in ("memleak-trace", "sockleak", "memscope-exporter")})
CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_RE = re.compile(r'Tracing|"event": *"ready"|Attaching \d+ probe|serving http://')
MEMCG_V1 = "/sys/fs/cgroup/memory"
REDIS_PORT = 7391
# Threads of the throughput generator, and the rates it is paced to.
TPUT_THREADS = 2
TPUT_RATES = [100e3, 250e3, 500e3, 1e6, 0]  # 0: as fast as it goes
# Long enough at full speed to overflow a 32 MiB ring buffer nobody drains.
STALL_SECS = 5

TMP = tempfile.mkdtemp(prefix="memscope-bench-")
STARTED = []  # every process this harness started, to end on the way out


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

class Workload:
    """A bench-wl process: says 'ready PID', waits for a line, runs, prints
    'result ...', then waits for stdin to close."""

    def __init__(self, argv, preexec=None):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  preexec_fn=preexec)
        STARTED.append(self.p)
        self.buf = b""
        line = self.readline(15)
        if not line or not line.startswith("ready "):
            raise RuntimeError("workload %s did not start: %r" % (argv[1], line))
        self.pid = int(line.split()[1])
        self.fields = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)

    def readline(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def go(self):
        self.p.stdin.write(b"go\n")
        self.p.stdin.flush()

    def result(self, timeout):
        line = self.readline(timeout)
        if not line or not line.split()[0] in ("result", "held"):
            raise RuntimeError("workload gave no result: %r" % line)
        return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv), line

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class Tracer:
    """A tracer process whose stdout and stderr go to files."""

    def __init__(self, argv, name, env=None):
        self.argv, self.name = argv, name
        self.out = os.path.join(TMP, "%s.%d.out" % (name, len(STARTED)))
        self.err = self.out[:-4] + ".err"
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                      start_new_session=True,
                                      env=dict(os.environ, **env) if env else None)
        STARTED.append(self.p)
        self.bpftrace = os.path.basename(argv[0]) == "bpftrace"

    def text(self, which="both"):
        s = ""
        for f in ((self.out, self.err) if which == "both" else (getattr(self, which),)):
            try:
                with open(f, errors="replace") as fh:
                    s += fh.read()
            except OSError:
                pass
        return s

    def wait_ready(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                raise RuntimeError("%s exited: %s" % (self.name, last_line(self.text("err"))))
            if READY_RE.search(self.text()):
                if self.bpftrace:
                    # bpftrace says "Attaching" before it attaches.
                    time.sleep(1.0)
                return
            time.sleep(0.05)
        raise RuntimeError("%s not ready after %ds" % (self.name, timeout))

    def cpu(self):
        return proc_cpu(self.p.pid)

    def hwm(self):
        """Peak RSS in bytes, from VmHWM."""
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def mem_split(self):
        """(RssAnon, RSS of mapped BPF maps such as ring buffers) in bytes:
        mapped map pages are kernel memory but count in the tracer's RSS."""
        anon = bpf = 0
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon = int(line.split()[1]) * 1024
            name = ""
            with open("/proc/%d/smaps" % self.p.pid) as f:
                for line in f:
                    parts = line.split()
                    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                        name = parts[5] if len(parts) > 5 else ""
                    elif parts and parts[0] == "Rss:" and "bpf-map" in name:
                        bpf += int(parts[1]) * 1024
        except (OSError, IndexError, ValueError):
            return None, None
        return anon, bpf

    def stop(self, timeout=30):
        """SIGINT, wait for the final report; returns seconds it took."""
        t0 = time.monotonic()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None
        return time.monotonic() - t0

    def json_lines(self):
        objs = []
        for line in self.text("out").splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    objs.append(json.loads(line))
                except ValueError:
                    pass
        return objs

    def lost(self):
        """Events the tool says it lost: the sum of its drops totals."""
        total, seen = 0, False
        for o in self.json_lines():
            d = o.get("drops")
            if isinstance(d, dict):
                seen = True
                total += d["total"] if "total" in d else sum(
                    v for v in d.values() if isinstance(v, (int, float)))
        return total if seen else None


def proc_cpu(pid):
    """utime+stime of all threads of pid, in seconds (None once gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def last_line(s):
    lines = [l for l in s.strip().splitlines() if l.strip()]
    return lines[-1][:160] if lines else "(no output)"


def cleanup_processes():
    for p in STARTED:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass


# ---------------------------------------------------------------- BPF run time

class BpfStats:
    """The kernel's own run time of each BPF program (run_time_ns and run_cnt
    in the fdinfo of the tracers' program fds), counted while this object is
    open: BPF_ENABLE_STATS hands back an fd that keeps the counting on until
    it is closed, without touching the kernel.bpf_stats_enabled sysctl other
    users of the machine may rely on. Far less noisy than wall time: it is
    the time spent in each program, whatever else runs on the CPUs."""

    BPF_ENABLE_STATS, BPF_STATS_RUN_TIME = 32, 0

    def __init__(self):
        import ctypes
        self.fd = -1
        nr = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
        if nr is None:
            return
        libc = ctypes.CDLL(None, use_errno=True)
        attr = ctypes.create_string_buffer(self.BPF_STATS_RUN_TIME.to_bytes(4, "little"), 8)
        self.fd = libc.syscall(nr, self.BPF_ENABLE_STATS, attr, 8)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    @staticmethod
    def snapshot(pids):
        """{(prog_id, name): (run_time_ns, run_cnt)} of the programs pids hold."""
        progs = {}
        for pid in pids:
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:bpf-prog":
                        continue
                    with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                        info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
                except OSError:
                    continue
                pid_ = int(info.get("prog_id", 0))
                if pid_ and "run_time_ns" in info:
                    progs[pid_] = (int(info["run_time_ns"]), int(info["run_cnt"]))
        names = {}
        if progs:
            try:
                out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                                     text=True).stdout
                names = {p["id"]: p.get("name", "?") for p in json.loads(out or "[]")}
            except (OSError, ValueError):
                pass
        return {(i, names.get(i, "id%d" % i)): v for i, v in progs.items()}

    @staticmethod
    def delta(before, after):
        """{name: [ns, runs]} over the window, programs that ran only."""
        d = {}
        for k, (ns, cnt) in after.items():
            ns0, cnt0 = before.get(k, (0, 0))
            if cnt > cnt0:
                v = d.setdefault(k[1], [0, 0])
                v[0] += ns - ns0
                v[1] += cnt - cnt0
        return d



# ---------------------------------------------------------------- configs

class Config:
    """One way to run a workload: a label, the binaries it needs, and how
    to build the tracer command lines from the run's context (target pid,
    the pid of an idle bystander, the allocator library)."""

    def __init__(self, key, label, tracers=None, needs=(), untraced=False, stall=False):
        self.key, self.label = key, label
        self.tracers = tracers or (lambda ctx: [])
        self.needs, self.untraced = needs, untraced
        # stall: the tracer is stopped (SIGSTOP) while the workload runs, so
        # nothing drains its buffers: what does it say it lost?
        self.stall = stall

    def missing(self):
        for n in self.needs:
            path = TOOLS.get(n) or (FLOOR if n == "floor" else None)
            if path and not os.access(path, os.X_OK):
                return "not built"
            if n == "bpftrace" and not which("bpftrace"):
                return "bpftrace not installed"
        return None


def which(name):
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def lib_of(pid, base):
    """Path of the first mapped file whose name starts with base."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and os.path.basename(parts[5]).startswith(base):
                    return parts[5]
    except OSError:
        pass
    return None


def ml(*extra):
    return lambda c: [[TOOLS["memleak-trace"], "--json", "-p", str(c["target"]), *extra]]


def sl(*extra):
    return lambda c: [[TOOLS["sockleak"], "--json", "-p", str(c["target"]), *extra]]


def bt(script, pid_attach=False):
    """A bpftrace one-liner; pid_attach: -p PID, so that its uprobes are set
    in that process only, as memleak-trace's and the floor's are."""
    def argv(c):
        pid = str(c["target"])
        return [["bpftrace", *(["-p", pid] if pid_attach else []), "-e",
                 script.replace("PID", pid).replace("LIB", c.get("lib") or "")]]
    return argv


BT_MMAP = ("tracepoint:syscalls:sys_enter_mmap,tracepoint:syscalls:sys_enter_munmap "
           "/pid == PID/ { @[probe, ustack] = count(); }")
BT_MALLOC = ("uprobe:LIB:malloc /pid == PID/ { @[ustack] = count(); } "
             "uprobe:LIB:free /pid == PID/ { @frees = count(); }")
BT_SOCKET = "tracepoint:syscalls:sys_enter_socket { @socket[comm] = count(); }"
BT_CLOSE = "tracepoint:syscalls:sys_enter_close { @close[comm] = count(); }"
# The same with the creating stack, which sockleak keeps for every socket.
BT_SOCKET_STACK = "tracepoint:syscalls:sys_enter_socket { @socket[comm, ustack] = count(); }"

NONE = Config("none", "no tracer")


def floor_cfg(label, *args, uprobe=False):
    if uprobe:
        return Config("floor", label, lambda c: [[FLOOR, "--uprobe", c["lib"], "-p", str(c["target"])]],
                      needs=("floor",))
    return Config("floor", label, lambda c: [[FLOOR, *args]], needs=("floor",))


def exporter_cfg(base=False):
    """memscope-exporter with every collector, as deployed (-i 5); with
    base, the baseline build's (MEMSCOPE_BENCH_BASE)."""
    key = "base-memscope-exporter" if base else "memscope-exporter"
    return Config("exporter-base" if base else "exporter",
                  "memscope-exporter (all collectors, -i 5)" + (" (baseline build)" if base else ""),
                  lambda c: [[TOOLS[key], "--listen", "127.0.0.1:0", "-i", "5"]], (key,))


def base_cfg(tool, label, extra=()):
    """The baseline build's tool (MEMSCOPE_BENCH_BASE) with the same options."""
    key = "base-" + tool
    return Config("base", label + " (baseline build)",
                  lambda c: [[TOOLS[key], "--json", "-p", str(c["target"]), *extra]], (key,))


def groups(quick):
    mmap = [
        NONE,
        floor_cfg("floor: empty progs on memleak-trace's tracepoints", "--mmap"),
        Config("tool", "memleak-trace -p (stacks on)", ml(), ("memleak-trace",)),
        *([base_cfg("memleak-trace", "memleak-trace -p (stacks on)")] if BASE else []),
        Config("bpftrace", "bpftrace: count mmap/munmap by ustack", bt(BT_MMAP), ("bpftrace",)),
        Config("other", "untraced; memleak-trace -p other pid", ml(), ("memleak-trace",), True),
        exporter_cfg(),
    ]
    malloc = [
        NONE,
        floor_cfg("floor: empty uprobes malloc/free (+ret)", uprobe=True),
        Config("tool", "memleak-trace -p --malloc", ml("--malloc"), ("memleak-trace",)),
        *([base_cfg("memleak-trace", "memleak-trace -p --malloc", ("--malloc",))] if BASE else []),
        Config("sample", "memleak-trace -p --malloc --sample 10", ml("--malloc", "--sample", "10"),
               ("memleak-trace",)),
        Config("faults", "memleak-trace -p --faults", ml("--faults"), ("memleak-trace",)),
        Config("bpftrace", "bpftrace: uprobe malloc by ustack, free count",
               # bpftrace 0.17 with -p reported it/s above the floor (its
               # uprobes did not fire): probe libc for every process, filter by pid.
               bt(BT_MALLOC),
               ("bpftrace",)),
        Config("other", "untraced; memleak-trace --malloc other pid", ml("--malloc"),
               ("memleak-trace",), True),
    ]
    socket = [
        NONE,
        floor_cfg("floor: empty progs on sockleak's tracepoints", "--sock"),
        Config("tool", "sockleak -p", sl(), ("sockleak",)),
        *([base_cfg("sockleak", "sockleak -p")] if BASE else []),
        Config("fp", "sockleak -p --stack-mode fp (no stack copies)", sl("--stack-mode", "fp"),
               ("sockleak",)),
        Config("nostacks", "sockleak -p --no-stacks", sl("--no-stacks"), ("sockleak",)),
        Config("tool-all", "sockleak (system-wide)", lambda c: [[TOOLS["sockleak"], "--json"]],
               ("sockleak",)),
        Config("bpftrace", "bpftrace: the two one-liners (socket, close per comm)",
               lambda c: bt(BT_SOCKET)(c) + bt(BT_CLOSE)(c), ("bpftrace",)),
        Config("bt-stack", "bpftrace: the one-liners, sockets by comm and ustack",
               lambda c: bt(BT_SOCKET_STACK)(c) + bt(BT_CLOSE)(c), ("bpftrace",)),
        Config("other", "untraced; sockleak -p other pid", sl(), ("sockleak",), True),
        exporter_cfg(),
        *([exporter_cfg(base=True)] if BASE else []),
    ]
    # System-wide: the children are new processes, which -p does not follow.
    spawn = [
        NONE,
        floor_cfg("floor: empty progs on sockleak's tracepoints", "--sock"),
        Config("tool-all", "sockleak (system-wide)", lambda c: [[TOOLS["sockleak"], "--json"]],
               ("sockleak",)),
        *([Config("base-all", "sockleak (system-wide) (baseline build)",
                  lambda c: [[TOOLS["base-sockleak"], "--json"]], ("base-sockleak",))] if BASE else []),
        Config("fp-all", "sockleak --stack-mode fp (system-wide)",
               lambda c: [[TOOLS["sockleak"], "--json", "--stack-mode", "fp"]], ("sockleak",)),
        Config("nostacks-all", "sockleak --no-stacks (system-wide)",
               lambda c: [[TOOLS["sockleak"], "--json", "--no-stacks"]], ("sockleak",)),
        exporter_cfg(),
    ]
    accept = [
        NONE,
        floor_cfg("floor: empty progs on sockleak's tracepoints", "--sock"),
        Config("tool", "sockleak -p <server>", sl(), ("sockleak",)),
        Config("bpftrace", "bpftrace: the two one-liners",
               lambda c: bt(BT_SOCKET)(c) + bt(BT_CLOSE)(c), ("bpftrace",)),
    ]
    redis = [
        NONE,
        floor_cfg("floor: empty progs on memleak-trace's tracepoints", "--mmap"),
        Config("tool", "memleak-trace -p", ml(), ("memleak-trace",)),
        Config("malloc", "memleak-trace -p --malloc", ml("--malloc"), ("memleak-trace",)),
        Config("faults", "memleak-trace -p --faults", ml("--faults"), ("memleak-trace",)),
        floor_cfg("floor: empty uprobes on redis's jemalloc", uprobe=True),
    ]
    redis[-1].key = "floor-je"
    if quick:
        keep = {"none", "floor", "tool", "base", "exporter", "exporter-base"}
        return [
            Group("mmap", "mmap/munmap loop (4 KiB anon, 1 in 10 kept)", "it/s", ["mmap"],
                  [c for c in mmap if c.key in keep | {"other"}]),
            Group("malloc", "malloc/free loop (32-144 B, 1 in 10 kept)", "it/s", ["malloc"],
                  [c for c in malloc if c.key in keep | {"faults"}]),
            Group("socket", "socket/close loop (TCP)", "it/s", ["socket"],
                  [c for c in socket if c.key in keep | {"bpftrace"}]),
        ]
    return [
        Group("mmap", "mmap/munmap loop (4 KiB anon, 1 in 10 kept)", "it/s", ["mmap"], mmap),
        Group("malloc", "malloc/free loop (32-144 B, 1 in 10 kept)", "it/s", ["malloc"], malloc),
        Group("socket", "socket/close loop (TCP)", "it/s", ["socket"], socket),
        Group("spawn", "short-lived processes, a socket each (fork, socket, exit)", "it/s",
              ["spawn"], spawn),
        Group("accept", "accept-heavy loopback server (2 client threads, 1 conn/op)", "conn/s",
              ["accept-client", "-w", "2"], accept),
        Group("redis", "redis-server %s, redis-benchmark -t set,get -n 100000 -c 50" % redis_version(),
              "req/s", None, redis, metrics=["SET", "GET"]),
    ]


def redis_version():
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
        v = re.search(r"v=(\S+)", out)
        m = re.search(r"malloc=(\S+)", out)
        return "%s (%s)" % (v.group(1) if v else "?", m.group(1) if m else "?")
    except OSError:
        return "(not installed)"


class Group:
    def __init__(self, key, title, unit, wl_args, configs, metrics=None):
        self.key, self.title, self.unit = key, title, unit
        self.wl_args, self.configs = wl_args, configs
        self.metrics = metrics or ["ops"]
        self.runs = {c.key: [] for c in configs}   # key -> list of run dicts
        self.errors = {}
        self.notes = []


# ---------------------------------------------------------------- running

def start_tracers(cfg, ctx):
    tracers = []
    for i, argv in enumerate(cfg.tracers(ctx)):
        tracers.append(Tracer(argv, "%s-%s-%d" % (ctx["group"], cfg.key, i)))
    for t in tracers:
        t.wait_ready()
    return tracers


def measure(tracers, fn):
    """Run fn() with the tracers live; returns fn's value plus the tracers'
    CPU seconds over that window, peak RSS, report time and lost events."""
    pids = [t.p.pid for t in tracers]
    progs0 = BpfStats.snapshot(pids)
    cpu0 = [t.cpu() or 0 for t in tracers]
    value = fn()
    cpu1 = [t.cpu() or 0 for t in tracers]
    progs = BpfStats.delta(progs0, BpfStats.snapshot(pids))
    rss = [t.hwm() or 0 for t in tracers]
    split = tracers[rss.index(max(rss))].mem_split() if tracers else (None, None)
    stop_s = [t.stop() for t in tracers]
    lost = [t.lost() for t in tracers]
    run = dict(value, tracer_cpu_s=sum(cpu1) - sum(cpu0), tracer_rss=max(rss) if rss else None,
               tracer_anon=split[0], tracer_bpfmap=split[1],
               stop_s=max((s for s in stop_s if s is not None), default=None),
               lost=None if not tracers or all(l is None for l in lost)
               else sum(l for l in lost if l is not None))
    for t in tracers:
        if t.p.returncode not in (0, None, -signal.SIGINT) and not t.bpftrace:
            run["tracer_rc"] = t.p.returncode
    run["final"] = [t.json_lines() for t in tracers]
    if progs:
        run["bpf_progs"] = progs
        if value.get("ops") and value.get("secs"):
            run["bpf_ns_per_op"] = sum(v[0] for v in progs.values()) / (value["ops"] * value["secs"])
    return run


def run_loop(group, cfg, secs):
    """One timed run of a bench-wl loop under cfg."""
    ctx = {"group": group.key}
    procs = []
    try:
        server = None
        args = list(group.wl_args)
        if group.key == "accept":
            server = Workload([WL, "accept-server"])
            procs.append(server)
            args += ["-p", server.fields["port"]]
        wl = Workload([WL, *args, "-t", str(secs)])
        procs.append(wl)
        target = server.pid if server else wl.pid
        if cfg.untraced:
            bystander = Workload([WL, "idle"])
            procs.append(bystander)
            target = bystander.pid
        ctx.update(target=target, lib=lib_of(target, "libc.so"))
        tracers = start_tracers(cfg, ctx)

        def timed():
            # The accept benchmark's CPU is the client's and the server's.
            srv0 = proc_cpu(server.pid) if server else 0
            for t in tracers if cfg.stall else []:
                os.kill(t.p.pid, signal.SIGSTOP)
            wl.go()
            res, _ = wl.result(secs + 60)
            for t in tracers if cfg.stall else []:
                os.kill(t.p.pid, signal.SIGCONT)
            s = float(res["secs"])
            cpu = float(res.get("cpu", 0)) + ((proc_cpu(server.pid) or 0) - srv0 if server else 0)
            return {"ops": int(res["ops"]) / s, "calls_per_s": int(res["calls"]) / s, "secs": s,
                    "ops_per_cpu_s": int(res["ops"]) / cpu if cpu > 0 else None}
        try:
            return measure(tracers, timed)
        finally:
            for t in tracers:
                t.stop(5)
    finally:
        for p in procs:
            p.close()


class Redis:
    def __init__(self):
        self.p = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        STARTED.append(self.p)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            r = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True,
                               text=True)
            if r.stdout.strip() == "PONG":
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start on port %d" % REDIS_PORT)

    def close(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def run_redis(group, cfg, redis, n):
    ctx = {"group": group.key, "target": redis.p.pid,
           "lib": lib_of(redis.p.pid, "libjemalloc") or lib_of(redis.p.pid, "libc.so")}
    tracers = start_tracers(cfg, ctx)

    def one(test):
        srv0 = proc_cpu(redis.p.pid)
        p = subprocess.Popen(["redis-benchmark", "-p", str(REDIS_PORT), "-t", test, "-n",
                              str(n), "-c", "50", "-q"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        STARTED.append(p)
        out = p.stdout.read().decode(errors="replace")
        # wait4 gives the client's own CPU time; with the server's, the
        # CPU cost of a request, which other load on the machine hardly moves.
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu = ru.ru_utime + ru.ru_stime + (proc_cpu(redis.p.pid) or 0) - (srv0 or 0)
        # -q prints "SET: 81234.56 requests per second, p50=..." after
        # \r-separated progress lines.
        m = re.search(r"%s: ([0-9.]+) requests per second" % test.upper(), out)
        if not m:
            raise RuntimeError("redis-benchmark: %s" % last_line(out))
        return float(m.group(1)), (n / cpu if cpu > 0 else None)

    def bench():
        t0, vals = time.monotonic(), {}
        for test in ("set", "get"):
            vals[test.upper()], vals[test.upper() + "_per_cpu_s"] = one(test)
        vals["secs"] = time.monotonic() - t0
        return vals
    try:
        return measure(tracers, bench)
    finally:
        for t in tracers:
            t.stop(5)


def run_group(group, rounds, secs, redis_n):
    """Rounds over the group's configs, alternating the order each round
    (A B C, C B A, ...) so that slow drift of the machine cancels out."""
    order = [c for c in group.configs]
    for c in order:
        why = c.missing()
        if why:
            group.errors[c.key] = why
    redis = None
    try:
        if group.key == "redis":
            redis = Redis()
            je = lib_of(redis.p.pid, "libjemalloc")
            group.notes.append("redis-server allocates through %s; memleak-trace --malloc "
                               "probes libc's allocator" % (je or "libc"))
        for r in range(rounds):
            seq = order if r % 2 == 0 else list(reversed(order))
            for c in seq:
                if c.key in group.errors:
                    continue
                log("  %s: %s (round %d/%d)" % (group.key, c.label, r + 1, rounds))
                try:
                    if redis:
                        run = run_redis(group, c, redis, redis_n)
                    else:
                        run = run_loop(group, c, secs)
                    group.runs[c.key].append(run)
                except (RuntimeError, OSError, KeyError, ValueError,
                        subprocess.TimeoutExpired) as e:
                    group.errors[c.key] = "failed: %s" % e
                    log("    %s" % group.errors[c.key])
        if redis and group.runs.get("malloc"):
            group.notes.append("memleak-trace --malloc on redis: " +
                               malloc_seen(group.runs["malloc"][-1]))
    except (RuntimeError, OSError) as e:
        for c in order:
            group.errors.setdefault(c.key, "failed: %s" % e)
    finally:
        if redis:
            redis.close()


def malloc_seen(run):
    """What the last --malloc report says it saw of the allocator."""
    reps = [o for lines in run.get("final", []) for o in lines if "summary" in o]
    if not reps:
        return "no final report"
    summ, stacks = reps[-1]["summary"], reps[-1].get("stacks", [])
    ms = [x for x in stacks if x.get("kind") == "malloc"]
    return "%s outstanding in malloc blocks (%d malloc stacks in the top %d)" % (
        mib(summ.get("malloc_bytes")), len(ms), len(stacks))


# ---------------------------------------------------------------- throughput

def run_throughput(secs):
    """Pace generators to rising call rates under each tool; read the lost
    count from the tool's final JSON report."""
    setups = [
        ("memleak-trace -p (mmap+munmap calls)", ["mmap"], ml(), "memleak-trace"),
        ("memleak-trace -p --malloc (malloc+free calls)", ["malloc"], ml("--malloc"), "memleak-trace"),
        ("sockleak -p (socket+close calls)", ["socket"], sl(), "sockleak"),
    ]
    results = []
    for label, args, tracer, tool in setups:
        rows = []
        if not os.access(TOOLS[tool], os.X_OK):
            results.append((label, "not built", rows))
            continue
        cfg = Config("tput", label, tracer, (tool,))
        g = Group("tput", label, "calls/s", args + ["-w", str(TPUT_THREADS)], [cfg])
        err = None
        for rate in TPUT_RATES:
            g.wl_args = args + ["-w", str(TPUT_THREADS)] + (["-r", str(int(rate))] if rate else [])
            log("  throughput: %s at %s" % (label, "max" if not rate else human(rate)))
            try:
                run = run_loop(g, cfg, secs)
            except (RuntimeError, OSError, KeyError, ValueError, subprocess.TimeoutExpired) as e:
                err = "failed: %s" % e
                break
            rows.append(dict(target=rate, achieved=run["calls_per_s"], lost=run["lost"],
                             cpu=run["tracer_cpu_s"] / run["secs"], rss=run["tracer_rss"],
                             calls=run["calls_per_s"] * run["secs"]))
        if not err and tool == "memleak-trace" and "--malloc" not in label:
            # Past the limit: a consumer that does not drain (stopped) at
            # the highest rate; the ring buffer fills and must say so.
            log("  throughput: %s, tracer stopped (SIGSTOP) during the run" % label)
            g.wl_args = args + ["-w", str(TPUT_THREADS)]
            stalled = Config("tput", label, tracer, (tool,), stall=True)
            try:
                run = run_loop(g, stalled, STALL_SECS)
                rows.append(dict(target=-1, achieved=run["calls_per_s"], lost=run["lost"],
                                 cpu=run["tracer_cpu_s"] / run["secs"], rss=run["tracer_rss"],
                                 calls=run["calls_per_s"] * run["secs"]))
            except (RuntimeError, OSError, KeyError, ValueError, subprocess.TimeoutExpired) as e:
                err = "failed (stalled consumer): %s" % e
        results.append((label, err, rows))
    return results


# ---------------------------------------------------------------- footprint

def symworker_compare(rounds):
    """The final report over 1M outstanding allocations with the symbolizer
    worker and with the binaries parsed in the tracer, rounds of each,
    interleaved so that the machine's load falls on both alike."""
    times = {"worker": [], "in-process": []}
    envs = {"worker": None, "in-process": {"MEMSCOPE_SYMWORKER": "0"}}
    for r in range(rounds):
        for k in (("worker", "in-process") if r % 2 == 0 else ("in-process", "worker")):
            res = run_report_time(1000000, envs[k])
            log("bench: round %d %s: %s" % (r + 1, k, res))
            if res.get("report_s") is not None and res.get("outstanding", 0) >= 1000000:
                times[k].append(res["report_s"])
    med = {k: statistics.median(v) if v else None for k, v in times.items()}
    print("memscope benchmark (--symworker %d), %s, load %.2f" % (
        rounds, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]))
    print("report over 1M outstanding allocations, SIGINT to final report (median of %d):" % rounds)
    for k in ("in-process", "worker"):
        print("  %-11s %s s  (runs: %s)" % (k, "%.3f" % med[k] if med[k] else "-",
                                             " ".join("%.3f" % x for x in times[k])))
    if med["worker"] and med["in-process"]:
        print("  ratio worker / in-process: %.3f" % (med["worker"] / med["in-process"]))
    symbench_compare(rounds, envs)
    refresh_compare(rounds, envs)
    return 0


REFRESH_LIBS = 60


def refresh_compare(rounds, envs):
    """symbench refresh: REFRESH_LIBS libraries mapped one by one, the
    symbolizer refreshed after each, as while a starting program's records
    are drained; the plain symbolizer and the DWARF unwinder's. Elapsed
    time is what the drain waits; CPU s of the process and its worker."""
    for mode in ("refresh", "refresh-unwinder"):
        took = {k: [] for k in envs}
        for r in range(rounds):
            for k in (("worker", "in-process") if r % 2 == 0 else ("in-process", "worker")):
                out = subprocess.run([os.path.join(BUILD, "bench", "symbench"), mode, str(REFRESH_LIBS)],
                                     capture_output=True, text=True,
                                     env=dict(os.environ, **(envs[k] or {}))).stdout.split()
                if len(out) == 3 and int(out[0]) == REFRESH_LIBS:
                    took[k].append((float(out[1]), float(out[2])))
        print("%d libraries mapped, a refresh after each (symbench %s), elapsed s / CPU s (median of %d):"
              % (REFRESH_LIBS, mode, rounds))
        med = {}
        for k in ("in-process", "worker"):
            med[k] = tuple(statistics.median(x[i] for x in took[k]) for i in (0, 1)) if took[k] else None
            print("  %-11s %s  (runs: %s)" % (k, "%.3f / %.3f" % med[k] if med[k] else "-",
                                               " ".join("%.3f/%.3f" % x for x in took[k])))
        if med["worker"] and med["in-process"] and med["in-process"][0] and med["in-process"][1]:
            print("  ratio worker / in-process: elapsed %.3f, CPU %.3f" % (
                med["worker"][0] / med["in-process"][0], med["worker"][1] / med["in-process"][1]))


def symbench_compare(rounds, envs):
    """symbench: one address every 64 bytes of its own code, resolved with
    the worker and in-process; CPU seconds of the process and its worker."""
    cpu = {k: [] for k in envs}
    n = None
    for r in range(rounds):
        for k in (("worker", "in-process") if r % 2 == 0 else ("in-process", "worker")):
            out = subprocess.run([os.path.join(BUILD, "bench", "symbench"), "64"], capture_output=True,
                                 text=True, env=dict(os.environ, **(envs[k] or {}))).stdout.split()
            if len(out) == 4:
                n = out[0]
                cpu[k].append(float(out[2]))
    med = {k: statistics.median(v) if v else None for k, v in cpu.items()}
    print("symbolization of %s distinct code addresses (symbench), CPU s of tracer + worker "
          "(median of %d):" % (n, rounds))
    for k in ("in-process", "worker"):
        print("  %-11s %s s  (runs: %s)" % (k, "%.3f" % med[k] if med[k] else "-",
                                             " ".join("%.3f" % x for x in cpu[k])))
    if med["worker"] and med["in-process"]:
        print("  ratio worker / in-process: %.3f" % (med["worker"] / med["in-process"]))


def run_report_time(count, env=None):
    """count outstanding mallocs under memleak-trace --malloc; time from
    SIGINT to the end of the final report."""
    if not os.access(TOOLS["memleak-trace"], os.X_OK):
        return {"error": "not built"}
    wl = Workload([WL, "hold", "-n", str(count)])
    t = None
    try:
        t = Tracer([TOOLS["memleak-trace"], "--json", "-p", str(wl.pid), "--malloc"], "hold", env)
        t.wait_ready()
        wl.go()
        res, _ = wl.result(600)
        rss_before = t.hwm()
        # Two times: until the final report is out (its JSON line is
        # complete), and until the tracer has exited (detaching included).
        size0 = os.path.getsize(t.out)
        t0 = time.monotonic()
        t.p.send_signal(signal.SIGINT)
        report_s = None
        while time.monotonic() - t0 < 120:
            with open(t.out, "rb") as f:
                f.seek(size0)
                tail = f.read()
            if b'"final_report"' in tail and tail.endswith(b"\n"):
                report_s = time.monotonic() - t0
                break
            if t.p.poll() is not None:
                break
            time.sleep(0.005)
        stop_s = t.stop(120)
        stop_s = time.monotonic() - t0 if stop_s is not None else None
        rep = [o for o in t.json_lines() if o.get("event") == "final_report" or "summary" in o]
        summ = rep[-1].get("summary", {}) if rep else {}
        return {"count": count, "alloc_s": float(res["secs"]), "report_s": report_s, "exit_s": stop_s,
                "outstanding": summ.get("outstanding_allocations"),
                "malloc_bytes": summ.get("malloc_bytes"), "rss": rss_before, "lost": t.lost()}
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        return {"error": "failed: %s" % e}
    finally:
        if t:
            t.stop(5)
        wl.close()


# ---------------------------------------------------------------- oomwatch

def oom_kill_count(cg):
    try:
        with open(os.path.join(cg, "memory.oom_control")) as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def remove_cgroup(cg):
    for _ in range(50):
        try:
            with open(os.path.join(cg, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            os.rmdir(cg)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


EXP_CGROUPS = 1000
EXP_PROCS = 10000
EXP_SCRAPES = 20
# Alternating runs of each exporter when a baseline's is compared.
EXP_ROUNDS = 3


def memcg_root():
    """Where scratch memory cgroups go: v1's memory hierarchy, else cgroup2."""
    if os.path.exists(os.path.join(MEMCG_V1, "memory.usage_in_bytes")):
        return MEMCG_V1
    return "/sys/fs/cgroup"


def exporter_metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def run_exporter_scale(ncg, nprocs, tools=("memscope-exporter",)):
    """memscope-exporter on a host with ncg more memory cgroups and nprocs
    more processes (sleepers, nprocs / ncg in each cgroup): its RSS, the
    time of a scrape (GET /metrics) and of a collection. With more than one
    of TOOLS' exporters, each runs in turn on the same cgroups and
    processes, EXP_ROUNDS times alternating (medians); the first one's
    figures are the result's, the others' are under res["others"][key]."""
    root = os.path.join(memcg_root(), "memscope-bench-%d" % os.getpid())
    res = {"cgroups": ncg, "procs": nprocs}
    sleepers = []
    tr = None
    try:
        os.mkdir(root)
        if root.startswith("/sys/fs/cgroup/memscope"):
            with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
                f.write("+memory")
        cgs = []
        for i in range(ncg):
            cg = os.path.join(root, "cg%04d" % i)
            os.mkdir(cg)
            cgs.append(cg)
        for i in range(nprocs):
            p = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
            sleepers.append(p)
            with open(os.path.join(cgs[i % ncg], "cgroup.procs"), "w") as f:
                f.write(str(p.pid))
        runs = {key: [] for key in tools}
        for _ in range(EXP_ROUNDS if len(tools) > 1 else 1):
            for key in tools:
                tr = Tracer([TOOLS[key], "--listen", "127.0.0.1:0", "-i", "5",
                             "--max-cgroups", str(ncg + 1000)], "exporter")
                runs[key].append(scrape_exporter(tr))
                tr.stop()
                tr = None
        for i, key in enumerate(tools):
            one = median_runs(runs[key])
            if i == 0:
                res.update(one)
            else:
                res.setdefault("others", {})[key] = one
    except Exception as e:  # noqa: BLE001 - a part that fails says why in its row
        res["error"] = str(e)
    finally:
        if tr:
            tr.stop()
        for p in sleepers:
            p.kill()
        for p in sleepers:
            p.wait()
        for cg in sorted(glob.glob(os.path.join(root, "cg*")), reverse=True):
            remove_cgroup(cg)
        remove_cgroup(root)
    return res


def median_runs(runs):
    """One exporter's runs as one: medians of the times and CPU, the
    highest scrape and RSS, the rest from the last run."""
    out = dict(runs[-1])
    for k in ("scrape_s", "collect_s", "cpu_s"):
        vals = [r[k] for r in runs if r.get(k) is not None]
        out[k] = statistics.median(vals) if vals else None
    out["scrape_max_s"] = max(r["scrape_max_s"] for r in runs)
    out["rss"] = max(r["rss"] or 0 for r in runs)
    out["runs"] = len(runs)
    return out


def scrape_exporter(tr):
    """EXP_SCRAPES scrapes of a running exporter: their median and max
    time, and what the last one says of the exporter."""
    import urllib.request
    res = {}
    tr.wait_ready(120)
    url = re.search(r"(http://\S+/metrics)", tr.text("err")).group(1)
    times, text = [], ""
    for _ in range(EXP_SCRAPES):
        t0 = time.monotonic()
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        times.append(time.monotonic() - t0)
        time.sleep(0.25)
    res["scrapes"] = len(times)
    res["scrape_s"] = statistics.median(times)
    res["scrape_max_s"] = max(times)
    res["bytes"] = len(text)
    res["series"] = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    res["collect_s"] = exporter_metric(text, "memscope_exporter_collect_duration_seconds")
    res["cgroups_seen"] = exporter_metric(text, "memscope_exporter_cgroups")
    res["rss"] = tr.hwm()
    res["cpu_s"] = exporter_metric(text, "memscope_exporter_cpu_seconds_total")
    return res


def exporter_table(exp):
    t = Table("5. memscope-exporter on a host with %d more memory cgroups and %d more processes"
              % (exp["cgroups"], exp["procs"]), ["measure", "value"])
    if "error" in exp:
        t.add("error", exp["error"])
        return t
    t.add("scrape: GET /metrics, median of %d (max)%s" % (
        exp["scrapes"], ", median of %d runs" % exp["runs"] if exp.get("runs", 1) > 1 else ""),
          "%.1f ms (%.1f ms)" % (exp["scrape_s"] * 1e3, exp["scrape_max_s"] * 1e3))
    t.add("collection (every 5 s, off the scrape path)", secs_h(exp["collect_s"]))
    t.add("exposition", "%s series, %s" % (exp["series"], mib(exp["bytes"])))
    t.add("memory cgroups seen", "%d" % exp["cgroups_seen"])
    t.add("exporter peak RSS (VmHWM)", mib(exp["rss"]))
    base = exp.get("others", {}).get("base-memscope-exporter")
    if base and base.get("scrape_s") and base.get("collect_s") and base.get("cpu_s"):
        t.add("exporter CPU over a run (start, %d scrapes; median of %d runs)" % (exp["scrapes"], exp["runs"]),
              secs_h(exp["cpu_s"]))
        t.add("baseline build: scrape median (max)",
              "%.1f ms (%.1f ms)" % (base["scrape_s"] * 1e3, base["scrape_max_s"] * 1e3))
        t.add("baseline build: collection", secs_h(base["collect_s"]))
        t.add("baseline build: exporter CPU over a run", secs_h(base["cpu_s"]))
        t.add("baseline build: peak RSS (VmHWM)", mib(base["rss"]))
        t.add("this build / baseline: scrape, collection, CPU", "%.2fx, %.2fx, %.2fx" % (
            exp["scrape_s"] / base["scrape_s"], exp["collect_s"] / base["collect_s"], exp["cpu_s"] / base["cpu_s"]))
    return t


def run_oom(kills):
    """A storm of `kills` OOM kills in a scratch v1 memcg under oomwatch:
    per kill, the latency from the kill (the time oomwatch stamps, taken in
    the kernel) to the report line reaching us; and none missed."""
    if not os.access(TOOLS["oomwatch"], os.X_OK):
        return {"error": "not built"}
    if not os.access(MEMCG_V1, os.W_OK):
        return {"error": "no writable cgroup v1 memory hierarchy"}
    cg = os.path.join(MEMCG_V1, "memscope-bench-%d" % os.getpid())
    os.mkdir(cg)
    t = None
    try:
        with open(os.path.join(cg, "memory.limit_in_bytes"), "w") as f:
            f.write(str(16 << 20))
        t = Tracer([TOOLS["oomwatch"], "--json", "-c", cg], "oomwatch")
        t.wait_ready()
        before = oom_kill_count(cg)
        seen_lines, latencies = 0, []
        out = open(t.out, "rb")
        t0 = time.monotonic()

        def join_cg():
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

        def drain():
            nonlocal seen_lines
            now = time.time()
            for line in out.read().decode(errors="replace").splitlines():
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if "victim" in o:
                    seen_lines += 1
                    ts = o.get("time_unix_ms")
                    if ts is not None:
                        latencies.append(now - ts / 1000.0)
        for _ in range(kills):
            hog = subprocess.Popen([WL, "hog"], preexec_fn=join_cg, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            STARTED.append(hog)
            hog.wait(30)
            drain()
        storm_s = time.monotonic() - t0
        after = oom_kill_count(cg)
        rss, cpu = t.hwm(), t.cpu()
        # Reports wait up to --kmsg-wait (1 s) for the kernel's own lines.
        end = time.monotonic() + 10
        while seen_lines < (after or 0) - (before or 0) and time.monotonic() < end:
            time.sleep(0.05)
            drain()
        t.stop(30)
        drain()
        summaries = [o for o in t.json_lines() if "missed" in json.dumps(o) and "victim" not in o]
        missed = None
        for s in summaries:
            m = re.findall(r'"missed": *(\d+)', json.dumps(s))
            if m:
                missed = sum(int(x) for x in m)
        return {"kills_kernel": (after or 0) - (before or 0), "reported": seen_lines,
                "missed_tool": missed, "storm_s": storm_s, "latencies": latencies,
                "rss": rss, "cpu_s": cpu, "lost": t.lost()}
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        return {"error": "failed: %s" % e}
    finally:
        if t:
            t.stop(5)
        remove_cgroup(cg)


# ---------------------------------------------------------------- output

def human(v, unit=""):
    if v is None:
        return "-"
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return "%.3g %s%s" % (v / div, suf, unit)
    return "%.3g %s" % (v, unit) if unit else "%.3g" % v


def mib(b):
    return "-" if b is None else "%.1f MiB" % (b / 1048576)


def secs_h(s):
    if s is None:
        return "-"
    return "%.0f ms" % (s * 1000) if s < 1 else "%.2f s" % s


def ratio(a, b):
    return "-" if not a or not b else "%.2fx" % (a / b)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    distro = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    git = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "distro": distro,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": os.getloadavg()[0], "git": git}


class Table:
    """Rows of cells, rendered aligned for a terminal and as markdown.
    Section rows (a workload's title) span the table and do not widen it."""

    def __init__(self, title, header):
        self.title, self.header, self.rows = title, header, []

    def add(self, *cells):
        self.rows.append([str(c) for c in cells])

    def section(self, title):
        self.rows.append(title)

    def text(self):
        cells = [self.header] + [r for r in self.rows if isinstance(r, list)]
        w = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        line = lambda r: "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                                   for i, c in enumerate(r)).rstrip()
        return "\n".join([self.title, line(self.header), "  ".join("-" * x for x in w)] +
                         [line(r) if isinstance(r, list) else r for r in self.rows])

    def markdown(self):
        n = len(self.header)
        out = ["**%s**" % self.title, "", "| " + " | ".join(self.header) + " |",
               "|" + "|".join(["---"] + ["---:"] * (n - 1)) + "|"]
        esc = lambda c: c.strip().replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        for r in self.rows:
            if not isinstance(r, list):
                r = ["*%s*" % esc(r)] + [""] * (n - 1)
            out.append("| " + " | ".join(esc(c) for c in r) + " |")
        return "\n".join(out)


def summarize(group, extra=()):
    """Per config and metric: median, min, max."""
    s = {}
    for c in group.configs:
        runs = group.runs[c.key]
        for m in list(group.metrics) + list(extra):
            vals = [r[m] for r in runs if r.get(m) is not None]
            if vals:
                s[(c.key, m)] = (statistics.median(vals), min(vals), max(vals))
    return s


def floor_of(key):
    return "floor-je" if key == "floor-je" else "floor"


def overhead_table(groups_, rounds, secs):
    t = Table("1-2. Overhead on the traced process, and on an untraced one (%d run(s) x %g s each, "
              "alternating; median [min-max]; slowdown = none / this; per CPU s = the same from "
              "the workload's ops per CPU second, which other load on the machine hardly moves)"
              % (rounds, secs),
              ["workload / tracer", "median", "min-max", "slowdown", "vs floor", "per CPU s",
               "vs floor", "tracer CPU", "tracer RSS", "lost"])
    blank = [""] * 9
    for g in groups_:
        s = summarize(g, ["ops_per_cpu_s"] + [m + "_per_cpu_s" for m in g.metrics])
        for m in g.metrics:
            t.section("%s%s (%s)" % (g.title, ", " + m if len(g.metrics) > 1 else "", g.unit))
            base = s.get(("none", m), (None,))[0]
            cm = "ops_per_cpu_s" if m == "ops" else m + "_per_cpu_s"
            cbase = s.get(("none", cm), (None,))[0]
            for c in g.configs:
                label = "  " + c.label
                if c.key in g.errors and not g.runs[c.key]:
                    t.add(label, g.errors[c.key], *blank[1:])
                    continue
                if (c.key, m) not in s:
                    t.add(label, "no data", *blank[1:])
                    continue
                med, lo, hi = s[(c.key, m)]
                fl = s.get((floor_of(c.key), m), (None,))[0]
                cmed = s.get((c.key, cm), (None,))[0]
                cfl = s.get((floor_of(c.key), cm), (None,))[0]
                runs = g.runs[c.key]
                cpu = [r["tracer_cpu_s"] / r["secs"] for r in runs if r.get("secs")]
                rss = [r["tracer_rss"] for r in runs if r.get("tracer_rss")]
                lost = [r["lost"] for r in runs if r.get("lost") is not None]
                traced = c.key != "none"
                t.add(label + (" (%s)" % g.errors[c.key] if c.key in g.errors else ""),
                      human(med, "/s"), "%s-%s" % (human(lo), human(hi)),
                      ratio(base, med), ratio(fl, med) if traced and fl else "-",
                      ratio(cbase, cmed), ratio(cfl, cmed) if traced and cfl else "-",
                      "%.1f%%" % (100 * statistics.median(cpu)) if traced and cpu else "-",
                      mib(max(rss)) if rss else "-", str(sum(lost)) if lost else "-")
        for n in g.notes:
            t.section("  note: " + n)
    return t


def bpf_table(groups_):
    """Per loop and tracer: the BPF programs' own run time (the kernel's
    run_time_ns, medians over the runs), per loop iteration in all and per
    program run. The evidence least moved by other load on the machine."""
    t = Table("1b. BPF run time (the kernel's per-program stats; medians over the runs; "
              "ns/it = all the tracer's programs per loop iteration)",
              ["workload / tracer", "ns/it", "program: ns/run x runs/it"])
    for g in groups_:
        rows = []
        for c in g.configs:
            runs = [r for r in g.runs[c.key] if r.get("bpf_ns_per_op") is not None]
            if not runs:
                continue
            names = sorted({n for r in runs for n in r["bpf_progs"]})
            parts = []
            for n in names:
                per = [r["bpf_progs"][n][0] / r["bpf_progs"][n][1] for r in runs
                       if n in r["bpf_progs"]]
                cnt = [r["bpf_progs"][n][1] / (r["ops"] * r["secs"]) for r in runs
                       if n in r["bpf_progs"]]
                parts.append((statistics.median(per) * statistics.median(cnt), "%s: %.0f x %.2f" % (
                    n, statistics.median(per), statistics.median(cnt))))
            parts.sort(reverse=True)
            rows.append(("  " + c.label, "%.0f" % statistics.median(r["bpf_ns_per_op"] for r in runs),
                         ", ".join(p for w, p in parts if w >= 1) or "-"))
        if rows:
            t.section("%s (%s)" % (g.title, g.unit))
            for r in rows:
                t.add(*r)
    return t


def throughput_table(results, secs):
    t = Table("3. Throughput without loss (%d generator threads, %g s per step; lost = the tool's "
              "own drop count)" % (TPUT_THREADS, secs),
              ["tool / paced rate", "achieved calls/s", "lost", "tracer CPU", "tracer RSS"])
    for label, err, rows in results:
        t.section(label + (": " + err if err else ""))
        for r in rows:
            t.add("  " + ("max" if not r["target"] else "max, tracer stopped (SIGSTOP): %s calls"
                          % human(r["calls"]) if r["target"] < 0 else human(r["target"], "/s")),
                  human(r["achieved"], "/s"), "-" if r["lost"] is None else str(r["lost"]),
                  "%.0f%%" % (100 * r["cpu"]), mib(r["rss"]))
        ok = [r["achieved"] for r in rows if r["lost"] == 0 and r["target"] >= 0]
        if rows:
            t.add("  highest rate with zero lost", human(max(ok), "/s") if ok else "none", "", "", "")
    return t


def footprint_table(rep, oom, groups_):
    t = Table("4-5. Footprint, report time, oomwatch", ["measure", "value"])
    if rep:
        if "error" in rep:
            t.add("report over 1M outstanding mallocs", rep["error"])
        else:
            t.add("outstanding mallocs made under --malloc", "%s in %s" % (human(rep["count"]),
                                                                           secs_h(rep["alloc_s"])))
            t.add("  outstanding allocations reported", str(rep["outstanding"]))
            t.add("  SIGINT -> final report written", secs_h(rep["report_s"]))
            t.add("  SIGINT -> tracer exited (probes detached)", secs_h(rep["exit_s"]))
            t.add("  tracer peak RSS", mib(rep["rss"]))
            t.add("  lost", str(rep["lost"]))
            past = rep.get("past") or {}
            if "error" in past:
                t.add("1.2M outstanding (past the 1M-entry table)", past["error"])
            elif past:
                t.add("1.2M outstanding (past the 1M-entry table)", "%s reported, %s lost" % (
                    past["outstanding"], past["lost"]))
    peak = {}
    for g in groups_:
        for c in g.configs:
            for r in g.runs[c.key]:
                name = c.needs[0] if c.needs else "none"
                if r.get("tracer_rss") and r["tracer_rss"] > peak.get(name, (0,))[0]:
                    peak[name] = (r["tracer_rss"], r.get("tracer_anon"), r.get("tracer_bpfmap"))
    for name in sorted(peak):
        if name in ("none", "no"):
            continue
        hwm, anon, bpf = peak[name]
        t.add("peak RSS over all runs: " + name, "%s (own anon %s, mapped BPF maps %s)" % (
            mib(hwm), mib(anon), mib(bpf)))
    if oom:
        if "error" in oom:
            t.add("oomwatch storm", oom["error"])
        else:
            lat = sorted(oom["latencies"])
            t.add("oomwatch storm: kills (kernel's oom_kill counter)", str(oom["kills_kernel"]))
            t.add("  reported by oomwatch", "%d in %s" % (oom["reported"], secs_h(oom["storm_s"])))
            t.add("  missed (oomwatch's own count)", "-" if oom["missed_tool"] is None
                  else str(oom["missed_tool"]))
            t.add("  oomwatch peak RSS, CPU time (whole run)", "%s, %s" % (
                mib(oom["rss"]), secs_h(oom["cpu_s"])))
            if lat:
                t.add("  kill -> report, median [min-max]", "%s [%s-%s]" % (
                    secs_h(statistics.median(lat)), secs_h(lat[0]), secs_h(lat[-1])))
    return t


def run_kind(a):
    """What a run covers, which names its place in the docs: full, quick,
    or the parts it was limited to."""
    if a.only:
        return "only " + ",".join(sorted(a.only.split(",")))
    return "quick" if a.quick else "full"


def command_line():
    """The command as run, with the baseline build if one ran beside."""
    cmd = " ".join(["scripts/bench"] + sys.argv[1:])
    return ("MEMSCOPE_BENCH_BASE=%s %s" % (BASE, cmd)) if BASE else cmd


def docs_markers(path, kind):
    """FILE's text and where its markers for this kind of run lie (-1, -1
    when it has none). Checked before the run too, so that a file that
    cannot take the tables fails in a second, not after the run."""
    begin, end = "<!-- bench: %s -->" % kind, "<!-- /bench: %s -->" % kind
    with open(path) as f:
        doc = f.read()
    i, j = doc.find(begin), doc.find(end)
    if (i < 0) != (j < 0) or j < i or doc.count(begin) > 1 or doc.count(end) > 1:
        raise ValueError("%s: the markers %s ... %s must be there once each, in that order, "
                         "or not at all" % (path, begin, end))
    if not os.access(path, os.W_OK):
        raise ValueError("%s: not writable" % path)
    return doc, begin, end, i, j


def write_docs(path, kind, md):
    """Replace what lies between FILE's markers for this kind of run with
    md, or add a section with them at its end: tables are regenerated by a
    run, never copied by hand."""
    doc, begin, end, i, j = docs_markers(path, kind)
    block = "%s\n%s\n%s" % (begin, md.strip("\n"), end)
    if i >= 0:
        doc = doc[:i] + block + doc[j + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n## Run: %s\n\n%s\n" % (kind, block)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def targets(groups_, tput, rep, oom=None, exp=None):
    """The project's targets against this run's numbers. The overhead targets
    are judged on both measures (wall-clock ops/s, ops per CPU second of the
    workload): "met" or "MISSED" when they agree, "mixed" when not."""
    g = {x.key: x for x in groups_}
    out = []

    def med(gk, ck, m):
        if gk not in g:
            return None
        return summarize(g[gk], ["ops_per_cpu_s"]).get((ck, m), (None,))[0]

    def bpf_ns(gk, ck):
        runs = [r["bpf_ns_per_op"] for r in g[gk].runs.get(ck, [])
                if r.get("bpf_ns_per_op") is not None] if gk in g else []
        return statistics.median(runs) if runs else None

    def line(name, value, ok):
        if ok is None:
            return
        if isinstance(ok, tuple):
            ok = ok[0] if ok[0] == ok[1] else "mixed"
        out.append("%-76s %-26s %s" % (name, value, ok if isinstance(ok, str)
                                       else ("met" if ok else "MISSED")))

    def both(gk, num, den, test):
        """(wall, cpu) ratios num/den of group gk and test() on each."""
        r = []
        for m in ("ops", "ops_per_cpu_s"):
            a, b = med(gk, num, m), med(gk, den, m)
            r.append(a / b if a and b else None)
        if None in r:
            return None, None
        return "%.2fx wall, %.2fx CPU" % tuple(r), (test(r[0]), test(r[1]))

    v, ok = both("mmap", "none", "tool", lambda x: x <= 1.4)
    line("memleak-trace -p slows the mmap loop <= 1.40x", v, ok)
    v, ok = both("socket", "bpftrace", "tool", lambda x: x <= 1.0)
    line("sockleak no slower than the bpftrace one-liners (bt/tool)", v, ok)
    # The BPF time per socket+close, which load on the machine hardly moves.
    for ck, what in (("bpftrace", "one-liners"), ("bt-stack", "one-liners with ustack")):
        a, b = bpf_ns("socket", "tool"), bpf_ns("socket", ck)
        if a and b:
            line("sockleak's BPF time per socket+close <= the %s'" % what,
                 "%.0f vs %.0f ns (%.2fx)" % (a, b, a / b), a <= b)
    v, ok = both("malloc", "floor", "tool", lambda x: x <= 1.15)
    line("--malloc within 15% of the empty-uprobe floor (floor/tool)", v, ok)
    for gk in ("mmap", "malloc", "socket"):
        for ck in ("other", "other2"):
            if gk not in g or ck not in g[gk].runs:
                continue
            lab = [c.label for c in g[gk].configs if c.key == ck][0]
            # Uprobes are set per pid: for a bystander the floor is nothing.
            ref = "none" if gk == "malloc" else "floor"
            v, ok = both(gk, ref, ck, lambda x: x <= 1.05)
            line("untraced %s loop, %s: <= %s +5%% (%s/it)" % (
                gk, lab.split("; ")[1], ref, ref), v, ok)
    for label, err, rows in tput or []:
        rows = [r for r in rows if r["target"] >= 0]
        ok = [r["achieved"] for r in rows if r["lost"] == 0]
        name = "zero lost at 500k events/s: " + label.split(" (")[0]
        if ok and max(ok) < 500e3 and rows[-1]["lost"] == 0:
            # The generator, slowed by the tracer on 2 vCPUs, is the limit.
            out.append("%-76s %-26s %s" % (name, "0 lost up to " + human(max(ok), "/s"),
                                            "untested: generator tops out below 500k/s"))
            continue
        line(name, "max clean " + (human(max(ok), "/s") if ok else "none"),
             (max(ok) >= 500e3) if ok else (None if err else False))
    if rep and "error" not in rep:
        line("report over 1M outstanding < 1 s", secs_h(rep["report_s"]),
             rep["report_s"] is not None and rep["report_s"] < 1)
    rss = [r["tracer_rss"] for x in groups_ for c in x.configs if not c.key.startswith("floor")
           and c.key != "none" and "bpftrace" not in c.needs
           for r in x.runs[c.key] if r.get("tracer_rss")]
    if rep and rep.get("rss"):
        rss.append(rep["rss"])
    if oom and oom.get("rss"):
        rss.append(oom["rss"])
    if oom and "error" not in oom:
        line("oomwatch: a storm of >= 50 kills, none missed", "%d of %d reported" % (
            oom["reported"], oom["kills_kernel"]), oom["kills_kernel"] >= 50 and
             oom["reported"] == oom["kills_kernel"] and not oom["missed_tool"])
    if rss:
        line("memscope tracer RSS < 64 MiB in every run", mib(max(rss)), max(rss) < 64 << 20)
    for gk in ("mmap", "socket"):
        if gk in g and "exporter" in g[gk].runs:
            v, ok = both(gk, "floor", "exporter", lambda x: x <= 1.05)
            line("exporter running: %s loop <= floor +5%% (floor/exporter)" % gk, v, ok)
        if gk in g and "exporter-base" in g[gk].runs:
            v, ok = both(gk, "floor", "exporter-base", lambda x: x <= 1.05)
            line("baseline build's exporter: %s loop <= floor +5%% (floor/exporter)" % gk, v, ok)
    if exp and "error" not in exp:
        line("exporter RSS < 48 MiB (%d cgroups, %d processes)" % (exp["cgroups"], exp["procs"]),
             mib(exp["rss"]), exp["rss"] < 48 << 20)
        line("exporter scrape < 50 ms (%d cgroups, %d processes; median of %d)" % (
            exp["cgroups"], exp["procs"], exp["scrapes"]), "%.1f ms" % (exp["scrape_s"] * 1e3),
             exp["scrape_s"] < 0.05)
    return out


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a subset in under a minute")
    ap.add_argument("--rounds", type=int, help="runs per configuration")
    ap.add_argument("--secs", type=float, help="seconds per run")
    ap.add_argument("--symworker", type=int, metavar="ROUNDS",
                    help="only the report over 1M outstanding allocations, ROUNDS times with the "
                    "symbolizer worker and in the tracer (MEMSCOPE_SYMWORKER=0), interleaved")
    ap.add_argument("--only", help="comma-separated parts: mmap,malloc,socket,spawn,accept,redis,"
                    "throughput,report,oom,exporter")
    ap.add_argument("--docs", metavar="FILE", help="also write the tables into FILE (docs/benchmarks.md), "
                    "between the markers of this kind of run, added at its end if absent")
    a = ap.parse_args()
    if a.symworker:
        return symworker_compare(a.symworker)
    rounds = a.rounds or (2 if a.quick else 4)
    secs = a.secs or (1.0 if a.quick else 2.0)
    only = set(a.only.split(",")) if a.only else None
    if os.geteuid() != 0:
        log("bench: the tracers load BPF programs: run as root")
        return 1
    for p in (WL, FLOOR):
        if not os.access(p, os.X_OK):
            log("bench: %s is missing: run make BUILD=%s bench-bins" % (p, os.path.relpath(BUILD, ROOT)))
            return 1
    if a.docs:
        try:
            docs_markers(a.docs, run_kind(a))
        except (OSError, ValueError) as e:
            log("bench: --docs %s" % e)
            return 1
    mach = machine()
    t_start = time.monotonic()
    log("bench: %s, build %s, %d runs x %g s per configuration" % (
        "quick" if a.quick else "full", os.path.relpath(BUILD, ROOT), rounds, secs))
    gs = [g for g in groups(a.quick) if not only or g.key in only]
    tput = rep = oom = exp = None
    stats = BpfStats()
    if stats.fd < 0:
        log("bench: BPF run-time stats unavailable (BPF_ENABLE_STATS failed): no BPF table")
    try:
        for g in gs:
            log("bench: %s" % g.title)
            run_group(g, rounds, secs, 100000)
        if not a.quick and (not only or "throughput" in only):
            log("bench: throughput")
            tput = run_throughput(secs)
        if not a.quick and (not only or "report" in only):
            log("bench: report time over 1M outstanding allocations")
            rep = run_report_time(1000000)
            # Past memleak-trace's table of live blocks (1M entries).
            rep["past"] = run_report_time(1200000)
        if not a.quick and (not only or "oom" in only):
            log("bench: oomwatch storm")
            oom = run_oom(60)
        if not a.quick and (not only or "exporter" in only):
            log("bench: memscope-exporter with %d cgroups and %d processes" % (EXP_CGROUPS, EXP_PROCS))
            exp = run_exporter_scale(EXP_CGROUPS, EXP_PROCS, ("memscope-exporter",) +
                                     (("base-memscope-exporter",) if BASE else ()))
    finally:
        cleanup_processes()
        stats.close()
    elapsed = time.monotonic() - t_start
    mach["load_end"] = os.getloadavg()[0]
    head = ("memscope benchmark (%s), %s\nmachine: %s, %d CPUs, Linux %s, %s; git %s\n"
            "load average 1 min: %.2f at start, %.2f at end (other work on the machine shows here "
            "as noise); harness ran %.0f s\ncommand: %s" % (
                run_kind(a), mach["date"], mach["cpu"], mach["cores"],
                mach["kernel"], mach["distro"], mach["git"], mach["load"], mach["load_end"], elapsed,
                command_line()))
    tables = [overhead_table(gs, rounds, secs), bpf_table(gs)] if gs else []
    if tput:
        tables.append(throughput_table(tput, secs))
    if rep or oom:
        tables.append(footprint_table(rep, oom, gs))
    if exp:
        tables.append(exporter_table(exp))
    tg = targets(gs, tput, rep, oom, exp)
    text = head + "\n\n" + "\n\n".join(t.text() for t in tables)
    if tg:
        text += "\n\nTargets\n" + "\n".join(tg)
    print(text)
    md = head.replace("\n", "  \n", 3) + "\n\n"
    md += "\n\n".join(t.markdown() for t in tables)
    if tg:
        md += "\n\n**Targets**\n\n```\n" + "\n".join(tg) + "\n```\n"
    name = "bench-quick" if a.quick else "bench"
    with open(os.path.join(BUILD, name + ".md"), "w") as f:
        f.write(md)
    raw = {"machine": mach, "rounds": rounds, "secs": secs,
           "groups": {g.key: {"runs": {k: [{x: y for x, y in r.items() if x != "final"} for r in v]
                                       for k, v in g.runs.items()}, "errors": g.errors,
                              "notes": g.notes} for g in gs},
           "throughput": tput, "report": rep, "oom": oom, "exporter": exp}
    with open(os.path.join(BUILD, name + ".json"), "w") as f:
        json.dump(raw, f, indent=1, default=str)
    log("bench: wrote %s.md and %s.json in %s" % (name, name, os.path.relpath(BUILD, ROOT)))
    if a.docs:
        write_docs(a.docs, run_kind(a), md)
        log("bench: wrote the %s run's tables into %s" % (run_kind(a), a.docs))
    return 0


if __name__ == "__main__":
    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        cleanup_processes()
        for cg in glob.glob(os.path.join(MEMCG_V1, "memscope-bench-%d" % os.getpid())):
            remove_cgroup(cg)
        sys.exit(130)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
