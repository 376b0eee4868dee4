# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of Vigil's benchmark scripts: the machine, captures, EAL memory, DPDK telemetry,
timed processes and their clean-up. Used by run.py, sweep.py, latency.py and scripts/vm/latency.py
(fwd.py predates it and stands alone)."""
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUNTIME_DIR = "/var/run/dpdk"


class BenchError(Exception):
    """A run that could not produce a figure; the message says which program and why."""


class Skip(Exception):
    """A peer that cannot run on this machine or this input; the message says why."""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def cpu_times():
    """Per-CPU (busy, total) jiffies from /proc/stat; busy excludes idle and iowait."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *v = line.split()
                v = [int(x) for x in v]
                out[int(name[3:])] = (sum(v) - v[3] - v[4], sum(v))
    return out


def cpu_busy_pct(before, after):
    """Share of each CPU's time that was busy between two cpu_times() readings: on a shared
    machine, what else ran beside the measured program (its own worker core shows ~100%)."""
    out = {}
    for c, (b1, t1) in after.items():
        b0, t0 = before.get(c, (0, 0))
        out[c] = round(100.0 * (b1 - b0) / (t1 - t0), 1) if t1 > t0 else None
    return out


def thread_cpu_ns(pid):
    """Time on CPU (ns, /proc/PID/task/TID/schedstat) of each thread of a process."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tids:
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                out[int(t)] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def busiest_thread_share(before, after, wall_s):
    """On-CPU share of the process's busiest thread between two thread_cpu_ns() readings: the
    polling worker, which should be 100%; less means other programs took its core."""
    best = max((after[t] - before.get(t, 0) for t in after), default=0)
    return round(100.0 * best / (wall_s * 1e9), 1) if wall_s > 0 else None


def machine():
    flags = cpu_flags()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
            "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "hugepages_free_mb": hugepages_free_mb(), "loadavg_at_start": loadavg()}


def hugepages_free_mb():
    free = size = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
            elif line.startswith("Hugepagesize:"):
                size = int(line.split()[1])
    return free * size // 1024


def pcap_info(path):
    """Packet count and record sizes of a classic pcap file, from the record headers alone
    (a 1M-packet capture is read in about a second)."""
    import struct
    lens = []
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise BenchError(f"{path}: not a pcap file (shorter than its 24-byte header)")
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise BenchError(f"{path}: not a classic pcap file (magic {magic.hex()}; pcapng "
                             "is not read by net_pcap either)")
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            incl = rec.unpack(h)[2]
            lens.append(incl)
            f.seek(incl, 1)
    return {"packets": len(lens), "max_len": max(lens) if lens else 0,
            "mean_len": round(statistics.mean(lens), 1) if lens else 0}


def mbufs_for(packets):
    """net_pcap infinite_rx copies the whole capture into mbufs at start, and the rings and
    bursts in flight need more: a power of two minus one (the mempool's best size)."""
    return (1 << max(14, (packets + 16384).bit_length())) - 1


def pool_mb(mbufs, data_room, page=4096):
    """Memory of an mbuf pool on pages of `page` bytes: a mempool object does not cross a
    page, so on 4 KiB pages (--no-huge) a 2176-byte data room takes a whole page."""
    obj = data_room + 320  # mbuf header, private area, mempool header, rounding
    if obj <= page:
        size = -(-mbufs // (page // obj)) * page
    else:
        size = mbufs * -(-obj // page) * page
    return size // (1 << 20)


def eal_memory(mbufs, data_room, no_huge=False):
    """EAL memory arguments and a description: hugepages when enough are free, else --no-huge
    with room for the pool. Every peer gets the same answer for the same input. Returns
    (args, description, no_huge, MiB that --no-huge needs)."""
    need_mb = pool_mb(mbufs, data_room, 2 << 20) + 256
    small_mb = max(pool_mb(mbufs, data_room) + 256, 1024)
    if not no_huge and hugepages_free_mb() >= need_mb:
        return ["--huge-unlink"], f"hugepages ({need_mb} MiB needed)", False, small_mb
    return (["--no-huge", "-m", str(small_mb)], f"--no-huge -m {small_mb}", True, small_mb)


def remove_runtime_dir(prefix):
    """EAL leaves /var/run/dpdk/<prefix> behind (testpmd and l3fwd always); only our own."""
    d = os.path.join(RUNTIME_DIR, prefix)
    if not prefix.startswith("vgb") or not os.path.isdir(d):
        return
    for f in os.listdir(d):
        p = os.path.join(d, f)
        if os.path.isdir(p):
            for g in os.listdir(p):
                os.unlink(os.path.join(p, g))
            os.rmdir(p)
        else:
            os.unlink(p)
    os.rmdir(d)


def remove_hugepage_files(prefix):
    """Hugepage files a killed process of ours left (--huge-unlink normally leaves none)."""
    for d in ("/dev/hugepages", "/mnt/huge"):
        if not os.path.isdir(d) or not prefix.startswith("vgb"):
            continue
        for f in os.listdir(d):
            if f.startswith(prefix + "map_") or f.startswith(prefix + "seg"):
                try:
                    os.unlink(os.path.join(d, f))
                except OSError:
                    pass


class VigildStats(threading.Thread):
    """Reads vigild's --stats output: keeps every line, and (time, tx pps of the port named
    port) from its per-port lines."""

    def __init__(self, stream, port="out"):
        super().__init__(daemon=True)
        self.stream, self.samples, self.lines = stream, [], []
        self.rx = re.compile(r"port " + re.escape(port) + r"\s+rx\s+\d+ pps tx\s+(\d+) pps")

    def run(self):
        for line in self.stream:
            self.lines.append(line)
            m = self.rx.search(line)
            if m:
                self.samples.append((time.time(), int(m.group(1))))

    def between(self, t0, t1):
        """The pps samples taken from t0 to t1."""
        return [p for t, p in self.samples if t0 <= t <= t1]


class Telemetry:
    """Client of a DPDK process's telemetry socket (/var/run/dpdk/<prefix>/dpdk_telemetry.v2):
    the same port counters, read the same way, for testpmd, l3fwd and vigild."""

    def __init__(self, prefix):
        self.path = os.path.join(RUNTIME_DIR, prefix, "dpdk_telemetry.v2")
        self.sock = None

    def connect(self, timeout, proc=None):
        deadline = time.monotonic() + timeout
        while True:
            if proc is not None and not proc.alive():
                raise BenchError(f"{proc.name} exited at start:\n{proc.tail()}")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(self.path)
                info = json.loads(s.recv(16384).decode())
                self.sock = s
                self.max_len = info.get("max_output_len", 16384)
                return
            except (OSError, ValueError):
                s.close()
                if time.monotonic() > deadline:
                    raise BenchError(f"no telemetry socket at {self.path} after {timeout} s")
                time.sleep(0.2)

    def query(self, cmd):
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(self.max_len).decode())

    def port_stats(self, port):
        return self.query(f"/ethdev/stats,{port}")["/ethdev/stats"]

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


class Proc:
    """A benchmarked program in its own session, stopped by PID (SIGINT, then SIGKILL)."""

    def __init__(self, cmd, name, env=None, cwd=None, log=None):
        self.name = name
        self.cmd = cmd
        self.log_path = log
        self.started = time.monotonic()
        self.out = open(log, "w+") if log else subprocess.DEVNULL
        self.p = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT, env=env,
                                  cwd=cwd, start_new_session=True)

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise BenchError(f"{self.name} did not stop within {timeout} s of SIGINT "
                                 f"(killed; pid {self.p.pid})")
        if self.log_path and not self.out.closed:
            self.out.close()
        return self.p.returncode

    def output(self):
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def tail(self, n=3000):
        return self.output()[-n:]


def sample_rates(read, seconds, warmup, proc):
    """Call read() -> (rx_packets, tx_packets) once a second; return per-second rates after
    `warmup` seconds. The rate is a difference of counters over monotonic time, so the
    sampling period's jitter does not bias it."""
    samples = []
    t0 = time.monotonic()
    last = None
    for i in range(warmup + seconds + 1):
        target = t0 + i
        now = time.monotonic()
        if target > now:
            time.sleep(target - now)
        if not proc.alive():
            raise BenchError(f"{proc.name} exited during the run:\n{proc.tail()}")
        rx, tx = read()
        now = time.monotonic()
        if last is not None and i > warmup:
            dt = now - last[0]
            samples.append(((rx - last[1]) / dt, (tx - last[2]) / dt))
        last = (now, rx, tx)
    return samples


def summarize_samples(samples, proc=None):
    rx = [s[0] for s in samples]
    tx = [s[1] for s in samples]
    if statistics.median(rx) <= 0:
        # A stalled program is an error to look into, never a figure of zero.
        raise BenchError(f"{proc.name if proc else 'the program'}: its input counter stood "
                         f"still for most of the sampled seconds ({len(rx)} samples)"
                         + (f":\n{proc.tail()}" if proc else ""))
    return {"rx_mpps": statistics.median(rx) / 1e6, "tx_mpps": statistics.median(tx) / 1e6,
            "samples": len(samples),
            "rx_mpps_min": min(rx) / 1e6, "rx_mpps_max": max(rx) / 1e6}


def parse_count(text):
    """'256k', '1M', '1000' -> int (the suffixes of vigil.yaml and vg-pktgen)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)\s*", str(text))
    if not m:
        raise ValueError(f"'{text}' is not a count (a number with an optional k, M or G)")
    mult = {"": 1, "k": 1000, "m": 1000000, "g": 1000000000}[m.group(2).lower()]
    return int(m.group(1)) * mult
