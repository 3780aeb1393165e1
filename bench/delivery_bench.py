"""End-to-end local delivery: SMTP in, through the queue, into a Maildir.

smtp-source (from Postfix's package, installed only for benchmarking) sends
BENCH_MESSAGES messages of 4 KiB over S parallel sessions into an instance;
the clock stops when the last message is a file in the Maildir's new/. The
same load goes to Posthorn and to a Postfix instance, one after the other, in
the same run. Printed: messages per second, CPU seconds of the instance's
processes, peak memory (Pss) of its processes, and Posthorn/Postfix ratios
(rate: above 1 is better; CPU and memory: below 1 is better).
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
SESSIONS = [int(s) for s in os.environ.get("BENCH_SESSIONS", "10,50").split(",")]
SIZE = int(os.environ.get("BENCH_SIZE", "4096"))


def run_one(inst, sessions):
    inst.start()
    try:
        root = inst.master_pid()
        cpu0 = mta.tree_cpu(root)
        with mta.Sampler(root) as mem:
            t0 = time.monotonic()
            src = subprocess.run([mta.SMTP_SOURCE, "-s", str(sessions), "-m", str(MESSAGES),
                                  "-l", str(SIZE), "-f", "sender@client.test",
                                  "-t", f"u@{mta.DOMAIN}", f"127.0.0.1:{inst.port}"],
                                 capture_output=True, text=True)
            if src.returncode != 0:
                raise RuntimeError(f"smtp-source: {src.stderr}")
            mta.wait_for(lambda: inst.delivered() >= MESSAGES, 600, f"{MESSAGES} deliveries")
            elapsed = time.monotonic() - t0
        cpu = mta.tree_cpu(root) - cpu0
        return MESSAGES / elapsed, cpu, mem.peak
    finally:
        inst.stop()


def main():
    if not mta.SMTP_SOURCE:
        print("delivery: smtp-source not installed (apt-get install postfix); skipped")
        return
    with tempfile.TemporaryDirectory() as probe:
        missing = mta.PosthornInstance(BUILD, probe).missing()
    if missing:
        print(f"delivery: skipped, not built yet: {' '.join(missing)}")
        return
    print(f"delivery: {MESSAGES} messages of {SIZE} bytes, SMTP -> queue -> virtual Maildir")
    for s in SESSIONS:
        with mta.scratch() as base:
            ours = run_one(mta.PosthornInstance(BUILD, base), s)
        theirs = None
        if mta.PostfixInstance.available():
            with mta.scratch() as base:
                theirs = run_one(mta.PostfixInstance(base), s)
        line = (f"  {s:3d} sessions  posthorn {ours[0]:7.1f} msg/s {ours[1]:6.2f} s CPU "
                f"{ours[2] / 1024:7.1f} MiB")
        if theirs:
            line += (f" | postfix {theirs[0]:7.1f} msg/s {theirs[1]:6.2f} s CPU {theirs[2] / 1024:7.1f} MiB"
                     f" | ratio rate {ours[0] / theirs[0]:4.2f} cpu {ours[1] / theirs[1]:4.2f}"
                     f" mem {ours[2] / theirs[2]:4.2f}")
        else:
            line += " | postfix: not installed (or not root)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
