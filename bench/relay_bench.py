"""End-to-end relay: SMTP in, through the queue, out by SMTP to a sink.

smtp-source sends BENCH_MESSAGES messages of BENCH_SIZE bytes over S
parallel sessions into an instance whose relayhost is Postfix's smtp-sink on
loopback; the clock stops when the sink has counted the last message. The
same load goes through Posthorn and through a Postfix instance, one after
the other, in the same run. Printed: messages per second, CPU seconds of the
instance's processes, peak memory (Pss) of its processes, and the
Posthorn/Postfix ratios (rate: above 1 is better; CPU and memory: below 1 is
better). The sink's own CPU is not counted for either.
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


def run_one(make_instance, base, sessions):
    sink = mta.SmtpSink(base)
    inst = make_instance(sink.port)
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
            mta.wait_for(lambda: sink.count() - sink.base_count >= MESSAGES, 600,
                         f"{MESSAGES} messages at the sink")
            elapsed = time.monotonic() - t0
        cpu = mta.tree_cpu(root) - cpu0
        return MESSAGES / elapsed, cpu, mem.peak
    finally:
        inst.stop()
        sink.stop()


def main():
    if not mta.SMTP_SOURCE or not mta.SMTP_SINK:
        print("relay: smtp-source/smtp-sink not installed (apt-get install postfix); skipped")
        return
    with tempfile.TemporaryDirectory() as probe:
        missing = mta.RelayPosthornInstance(BUILD, probe, 25).missing()
    if missing:
        print(f"relay: skipped, not built yet: {' '.join(missing)}")
        return
    print(f"relay: {MESSAGES} messages of {SIZE} bytes, SMTP -> queue -> smtp -> smtp-sink")
    for s in SESSIONS:
        with mta.scratch() as d1:
            ours = run_one(lambda port: mta.RelayPosthornInstance(BUILD, d1, port), d1, s)
        theirs = None
        if mta.PostfixInstance.available():
            with mta.scratch() as d2:
                theirs = run_one(lambda port: mta.RelayPostfixInstance(d2, port), d2, s)
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
