"""SMTP acceptance: how fast each server takes mail into its queue.

smtp-source sends BENCH_SMTPD_MESSAGES messages over S parallel sessions
(1, 10, 50, 200) with 4 KiB and 100 KiB bodies; the clock runs until the
last "250" after DATA. Neither instance runs its queue manager, so what is
measured is SMTP, cleanup and the durable queue write (both fsync each
queue file). Printed per scenario: messages per second, CPU seconds of the
instance's processes, peak memory (Pss), and the Posthorn/Postfix ratios
(rate: above 1 is better; CPU and memory: below 1 is better).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
MESSAGES = int(os.environ.get("BENCH_SMTPD_MESSAGES", "2000"))
SESSIONS = [int(s) for s in os.environ.get("BENCH_SMTPD_SESSIONS", "1,10,50,200").split(",")]
SIZES = [int(s) for s in os.environ.get("BENCH_SMTPD_SIZES", "4096,102400").split(",")]


def run_one(inst, sessions, size):
    inst.start()
    try:
        root = inst.master_pid()
        cpu0 = mta.tree_cpu(root)
        with mta.Sampler(root) as mem:
            t0 = time.monotonic()
            src = subprocess.run([mta.SMTP_SOURCE, "-s", str(sessions), "-m", str(MESSAGES),
                                  "-l", str(size), "-f", "sender@client.test",
                                  "-t", f"u@{mta.DOMAIN}", f"127.0.0.1:{inst.port}"],
                                 capture_output=True, text=True)
            elapsed = time.monotonic() - t0
        if src.returncode != 0:
            raise RuntimeError(f"smtp-source against {inst.name}: {src.stderr}")
        cpu = mta.tree_cpu(root) - cpu0
        queued = inst.queued()
        if queued < MESSAGES:
            raise RuntimeError(f"{inst.name}: {queued} of {MESSAGES} messages in incoming/")
        return MESSAGES / elapsed, cpu, mem.peak
    finally:
        inst.stop()


def main():
    if not mta.SMTP_SOURCE:
        print("smtpd: smtp-source not installed (apt-get install postfix); skipped")
        return
    print(f"smtpd acceptance: {MESSAGES} messages per scenario, queue fsync on, no delivery")
    for size in SIZES:
        for s in SESSIONS:
            with mta.scratch() as base:
                ours = run_one(mta.PosthornInstance(BUILD, base, deliver=False), s, size)
            theirs = None
            if mta.PostfixInstance.available():
                with mta.scratch() as base:
                    theirs = run_one(mta.PostfixInstance(base, deliver=False), s, size)
            line = (f"  {size // 1024:4d} KiB {s:3d} sessions  posthorn {ours[0]:7.1f} msg/s "
                    f"{ours[1]:6.2f} s CPU {ours[2] / 1024:6.1f} MiB")
            if theirs:
                line += (f" | postfix {theirs[0]:7.1f} msg/s {theirs[1]:6.2f} s CPU "
                         f"{theirs[2] / 1024:6.1f} MiB | ratio rate {ours[0] / theirs[0]:4.2f} "
                         f"cpu {ours[1] / theirs[1]:4.2f} mem {ours[2] / theirs[2]:4.2f}")
            else:
                line += " | postfix: not installed (or not root)"
            print(line, flush=True)


if __name__ == "__main__":
    main()
