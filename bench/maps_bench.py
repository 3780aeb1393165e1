"""Lookup tables: building and querying a large table, Posthorn against Postfix.

`posthorn map build` against `postmap`, and a lookup of every key through
`posthorn map query FILE -` against `postmap -q - FILE` (keys on standard
input, one process). Wall time and peak memory are the median of a few runs;
the ratio is Posthorn's figure divided by Postfix's (below 1 is better).
"""
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
POSTHORN = os.path.join(BUILD, "bin", "posthorn")
POSTMAP = shutil.which("postmap") or ("/usr/sbin/postmap" if os.path.exists("/usr/sbin/postmap") else None)
ENTRIES = int(os.environ.get("BENCH_MAP_ENTRIES", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def measure(argv, stdin_path=None):
    """Runs argv once under /usr/bin/time; returns (seconds, peak RSS in KiB).
    /usr/bin/time, not Python, forks the program, so the peak is the
    program's own and not Python's pages inherited across fork."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    with tempfile.NamedTemporaryFile("r") as out:
        start = time.monotonic()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *argv], stdin=stdin,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.monotonic() - start
        rss = int(out.read().strip().splitlines()[-1])
    if stdin_path:
        stdin.close()
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed: {r.stderr.decode()}")
    return elapsed, rss


def median_of(argv, stdin_path=None, before=None):
    times, rss = [], []
    for _ in range(RUNS):
        if before:
            before()
        t, m = measure(argv, stdin_path)
        times.append(t)
        rss.append(m)
    return statistics.median(times), statistics.median(rss)


def row(name, ours, theirs):
    if theirs:
        print(f"{name:<28} {ours[0]*1000:9.1f} ms {ours[1]:8d} KiB | postfix {theirs[0]*1000:9.1f} ms "
              f"{theirs[1]:8d} KiB | ratio time {ours[0]/theirs[0]:5.2f} mem {ours[1]/theirs[1]:5.2f}")
    else:
        print(f"{name:<28} {ours[0]*1000:9.1f} ms {ours[1]:8d} KiB | postfix: not installed")


def postfix_config(work):
    """A config directory for postmap -c: Postfix refuses to run without a
    main.cf, and waits a second for one that changed in the last second."""
    d = os.path.join(work, "postfix")
    os.mkdir(d)
    main_cf = os.path.join(d, "main.cf")
    with open(main_cf, "w") as f:
        f.write("compatibility_level = 3.6\n")
    old = time.time() - 3600
    os.utime(main_cf, (old, old))
    return d


def main():
    work = tempfile.mkdtemp(prefix="posthorn-bench-")
    try:
        pf_conf = postfix_config(work) if POSTMAP else None
        rnd = random.Random(1)
        keys = [f"user{i}@example{i % 97}.org" for i in range(ENTRIES)]
        with open(os.path.join(work, "source"), "w") as f:
            for k in keys:
                f.write(f"{k} mailbox/{k}/\n")
        rnd.shuffle(keys)
        with open(os.path.join(work, "keys"), "w") as f:
            f.write("\n".join(keys) + "\n")
        print(f"maps: {ENTRIES} entries, {RUNS} runs each, median")
        for kind in ("hash", "lmdb"):
            ours_src = os.path.join(work, f"ph-{kind}")
            pf_src = os.path.join(work, f"pf-{kind}")
            shutil.copy(os.path.join(work, "source"), ours_src)
            shutil.copy(os.path.join(work, "source"), pf_src)
            pf_ok = POSTMAP and postmap_supports(pf_conf, kind, work)
            ours = median_of([POSTHORN, "map", "build", f"{kind}:{ours_src}"])
            theirs = median_of([POSTMAP, "-c", pf_conf, f"{kind}:{pf_src}"]) if pf_ok else None
            row(f"build {kind}", ours, theirs)
            keys_path = os.path.join(work, "keys")
            ours = median_of([POSTHORN, "map", "query", f"{kind}:{ours_src}", "-"], keys_path)
            theirs = (median_of([POSTMAP, "-c", pf_conf, "-q", "-", f"{kind}:{pf_src}"], keys_path)
                      if pf_ok else None)
            row(f"query {kind} (all keys)", ours, theirs)
    finally:
        shutil.rmtree(work)


def postmap_supports(conf, kind, work):
    probe = os.path.join(work, f"probe-{kind}")
    with open(probe, "w") as f:
        f.write("k v\n")
    r = subprocess.run([POSTMAP, "-c", conf, f"{kind}:{probe}"], capture_output=True)
    return r.returncode == 0


if __name__ == "__main__":
    main()
