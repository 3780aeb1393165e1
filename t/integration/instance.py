"""A self-contained Posthorn instance for integration tests.

An Instance is a folder: main.cf and master.cf, the spool (spool/), the data
directory with master's lock (data/) and the log (maillog), all under one
temporary directory, driven through the real `posthorn` command.

Run as root (CI), the real privilege drops happen: mail_owner is the system
account `nobody` and setgid_group `nogroup`, both present on every Debian
system, so no account has to be created; master chowns the spool to them.
Run as any other user, nothing changes identity and those two lines are left
out.

Every wait polls with a deadline; nothing sleeps to let time pass. Tests wrap
an Instance in a fixture that calls teardown(), so that the instance is always
stopped, and any process left behind is killed and reported.
"""
import os
import pathlib
import signal
import socket
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("POSTHORN_BUILD", ROOT / "build"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, what="condition"):
    """Polls predicate() until it returns a true value; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone between open and read: ESRCH
        return False


def children_of(ppid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.append(int(entry))
    return sorted(out)


class Instance:
    def __init__(self, directory, main=None, services=()):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.main = {
            "queue_directory": "spool",
            "data_directory": "data",
            "maillog_file": "maillog",
            # Hermetic by default: smtpd asks no DNS server for client names
            # and checks no local users against the host's /etc/aliases and
            # accounts. Tests of those features set them back.
            "smtpd_peername_lookup": "no",
            "local_recipient_maps": "",
        }
        if os.geteuid() == 0:
            self.main.update(mail_owner="nobody", setgid_group="nogroup")
        self.main.update(main or {})
        self.services = list(services)
        self.seen = set()  # every pid we saw, for the teardown
        self.write()

    # --- configuration -------------------------------------------------
    def write(self):
        (self.dir / "main.cf").write_text(
            "".join(f"{k} = {v}\n" for k, v in self.main.items()))
        (self.dir / "master.cf").write_text("".join(line + "\n" for line in self.services))

    def set(self, **params):
        self.main.update(params)
        self.write()

    @staticmethod
    def echo_service(port, maxproc=2, args=""):
        echod = BUILD / "t" / "progs" / "echod"
        return f"127.0.0.1:{port} inet n - n - {maxproc} {echod} {args}".rstrip()

    # --- control ---------------------------------------------------------
    def posthorn(self, *args, timeout=60):
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        return subprocess.run([str(BUILD / "bin" / "posthorn"), "-c", str(self.dir), *args],
                              env=env, capture_output=True, text=True, timeout=timeout)

    def start(self):
        r = self.posthorn("start")
        assert r.returncode == 0, f"start failed: {r.stderr}\nlog:\n{self.log()}"
        self.seen.add(self.master_pid())
        return r

    def stop(self):
        return self.posthorn("stop")

    def master_pid(self):
        try:
            text = (self.dir / "data" / "master.lock").read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def running(self):
        return self.posthorn("status").returncode == 0

    def children(self):
        pid = self.master_pid()
        kids = children_of(pid) if pid else []
        self.seen.update(kids)
        return kids

    def log(self):
        try:
            return (self.dir / "maillog").read_text()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=10.0):
        return wait_for(lambda: text in self.log(), timeout, f"log line {text!r}")

    def teardown(self):
        """Stops the instance; kills whatever survived (and fails loudly then)."""
        if self.running():
            self.stop()
        master = self.master_pid()
        if master and pid_alive(master):  # status could not tell (a broken main.cf)
            os.kill(master, signal.SIGTERM)
            wait_for(lambda: not pid_alive(master), 30, "master to stop")
        left = [p for p in self.seen if p and pid_alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        return left


class EchoClient:
    """A line client for echod: greeting on connect, one answer per line."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rwb")
        self.greeting = self.readline()
        parts = self.greeting.split()
        # "220 <mail_name> pid <pid> generation <g>"
        self.mail_name, self.pid, self.generation = parts[1], int(parts[3]), int(parts[5])

    def readline(self):
        return self.file.readline().decode().rstrip("\r\n")

    def ask(self, line):
        self.file.write(line.encode() + b"\r\n")
        self.file.flush()
        return self.readline()

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()
