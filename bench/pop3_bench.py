"""POP3 download: one mailbox of BENCH_POP3_MESSAGES (10,000) messages of
about 4 KiB, read by one client that logs in, sends LIST and UIDL, then
RETR for every message, one command at a time (as fetchmail and most MUAs
do), and QUIT without deleting anything.

Posthorn (master, pop3d, auth) and Dovecot's pop3 (Debian dovecot-pop3d, run
as a private instance with its own configuration in a temporary directory, on
a loopback port) serve the same Maildir in the same run, taking turns. The messages are written the way a delivery agent writes them (in
new/, with ,S= and ,W= in the names), so neither server has to read a
message to list it.

Each server is measured cold (its first session: Posthorn assigns UIDs and
writes posthorn-uidlist, Dovecot builds its index and dovecot-uidlist) and
warm (the median of BENCH_POP3_RUNS further sessions). Printed: seconds from
connect to the reply to QUIT, CPU seconds of the server's process tree
(bench/mta.py), peak memory (Pss of the tree), and the ratios Posthorn /
Dovecot (below 1 is better). Dovecot is set to pop3_no_flag_updates = yes so
that both do the same work (Posthorn does not mark downloaded mail as seen;
Dovecot's default would rename every file it sent); both send the UIDL
"%v.%u". Every retrieved message is compared with the file's bytes.

Needs root (both servers switch to the mailbox owner); Dovecot is used when
/usr/sbin/dovecot exists (apt-get install dovecot-pop3d), never otherwise.
"""
import os
import pathlib
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402

BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build").resolve()
MESSAGES = int(os.environ.get("BENCH_POP3_MESSAGES", "10000"))
RUNS = int(os.environ.get("BENCH_POP3_RUNS", "5"))
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
USER, PASSWORD = "u@bench.test", "bench-pw"


def message(i):
    """About 4 KiB: headers, then 50 lines of text; LF line ends as delivered."""
    head = (f"Return-Path: <sender@client.test>\nDelivered-To: {USER}\n"
            f"Received: from client.test (client.test [192.0.2.7])\n\tby bench.test; "
            f"Mon, 23 Nov 2026 10:00:00 +0000\nFrom: Sender <sender@client.test>\n"
            f"To: {USER}\nSubject: message {i}\nMessage-ID: <{i}@client.test>\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0000\n\n")
    line = f"{i:06d} the quick brown fox jumps over the lazy dog, line "
    body = "".join(f"{line}{n:02d} .........\n" if n % 10 else f".{line}{n:02d} dot\n"
                   for n in range(50))
    return (head + body).encode()


def make_maildir(path, owner):
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    expected = {}
    host = socket.gethostname()
    for i in range(MESSAGES):
        data = message(i)
        vsize = len(data) + data.count(b"\n") - data.count(b"\r\n")
        name = f"{1795000000 + i}.M{i}P1Q{i}.{host},S={len(data)},W={vsize}"
        (path / "new" / name).write_bytes(data)
        expected[i] = data.replace(b"\n", b"\r\n")
    for p in [path.parent, path, *path.rglob("*")]:
        os.chown(p, owner.pw_uid, owner.pw_gid)
    return expected


class Client:
    """A sequential POP3 client that reads multi-line replies in bulk."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("server closed the connection")
        self.buf += chunk

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        reply = self.line()
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"{text.split()[0]}: {reply!r}")
        return reply

    def multi(self, text):
        self.cmd(text)
        end = self.buf.find(b"\r\n.\r\n")
        if self.buf.startswith(b".\r\n"):
            end = -2
        while end < 0 and not self.buf.startswith(b".\r\n"):
            self.fill()
            end = self.buf.find(b"\r\n.\r\n")
        if self.buf.startswith(b".\r\n"):
            self.buf = self.buf[3:]
            return b""
        body, self.buf = self.buf[:end + 2], self.buf[end + 5:]
        return body

    def session(self, expected):
        self.cmd(f"USER {USER}")
        self.cmd(f"PASS {PASSWORD}")
        listing = self.multi("LIST").split(b"\r\n")[:-1]
        uidls = self.multi("UIDL").split(b"\r\n")[:-1]
        if len(listing) != MESSAGES or len(uidls) != MESSAGES:
            raise RuntimeError(f"listed {len(listing)} and {len(uidls)} of {MESSAGES} messages")
        got = set()
        for n in range(1, MESSAGES + 1):
            data = self.multi(f"RETR {n}").replace(b"\r\n..", b"\r\n.")
            if data.startswith(b".."):
                data = data[1:]
            i = int(data.split(b"Subject: message ", 1)[1].split(b"\r\n", 1)[0])
            if data != expected[i]:
                raise RuntimeError(f"message {i} differs")
            got.add(i)
        if len(got) != MESSAGES:
            raise RuntimeError("messages retrieved twice")
        self.cmd("QUIT")
        self.sock.close()


def measure(root_pid, port, expected):
    cpu0 = mta.tree_cpu(root_pid)
    with mta.Sampler(root_pid) as mem:
        t0 = time.monotonic()
        Client(port).session(expected)
        elapsed = time.monotonic() - t0
    # The session's process may still be exiting: let master reap it.
    time.sleep(0.3)
    return elapsed, mta.tree_cpu(root_pid) - cpu0, mem.peak


class Posthorn:
    name = "posthorn"

    def __init__(self, base, maildir, owner):
        self.dir = base / "posthorn"
        self.dir.mkdir()
        self.port = mta.free_port()
        passwd = self.dir / "passwd"
        hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=PASSWORD + "\n",
                                capture_output=True, text=True, check=True).stdout.strip()
        passwd.write_text(f"{USER} {hashed}\n")
        main = {
            "queue_directory": "spool", "data_directory": "data", "maillog_file": "maillog",
            "daemon_directory": str(BUILD / "bin"), "myhostname": "phbench.test",
            "mydestination": "", "mail_owner": "nobody", "setgid_group": "nogroup",
            "virtual_mailbox_domains": "bench.test",
            "virtual_mailbox_base": str(maildir.parent),
            "virtual_mailbox_maps": f"inline:{{ {USER}={maildir.name}/ }}",
            "virtual_uid_maps": f"static:{owner.pw_uid}", "virtual_gid_maps": f"static:{owner.pw_gid}",
            "auth_password_maps": f"texthash:{passwd}", "pop3_plaintext_auth": "yes",
        }
        (self.dir / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.dir / "master.cf").write_text(
            f"127.0.0.1:{self.port} inet n n n - - pop3d\nauth unix - - n - - auth\n")

    def start(self):
        r = subprocess.run([str(BUILD / "bin" / "posthorn"), "-c", str(self.dir), "start"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"posthorn start: {r.stderr}")
        mta.wait_for(lambda: mta.port_open(self.port), 10, "posthorn pop3d")

    def root_pid(self):
        return int((self.dir / "data" / "master.lock").read_text().strip())

    def stop(self):
        subprocess.run([str(BUILD / "bin" / "posthorn"), "-c", str(self.dir), "stop"],
                       capture_output=True)


class Dovecot:
    name = "dovecot"

    def __init__(self, base, maildir, owner):
        self.dir = base / "dovecot"
        (self.dir / "run").mkdir(parents=True)
        (self.dir / "state").mkdir()
        self.port = mta.free_port()
        (self.dir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        conf = f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
instance_name = posthorn-bench-{os.getpid()}
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{maildir}
pop3_uidl_format = %v.%u
pop3_no_flag_updates = yes
passdb {{
  driver = passwd-file
  args = {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={maildir}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
        (self.dir / "dovecot.conf").write_text(conf)
        self.proc = None

    @staticmethod
    def available():
        return DOVECOT is not None and os.geteuid() == 0

    def start(self):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mta.wait_for(lambda: mta.port_open(self.port) or self.proc.poll() is not None, 10,
                     "dovecot pop3")
        if self.proc.poll() is not None:
            raise RuntimeError(f"dovecot: {self.proc.stderr.read().decode()}")

    def root_pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_all(servers, expected):
    """Cold sessions first, then the warm ones taking turns, so that a change
    in the machine's load during the run falls on every server alike."""
    for s in servers:
        s.start()
    try:
        cold = {s.name: measure(s.root_pid(), s.port, expected) for s in servers}
        warm = {s.name: [] for s in servers}
        for _ in range(RUNS):
            for s in servers:
                warm[s.name].append(measure(s.root_pid(), s.port, expected))
    finally:
        for s in servers:
            s.stop()
    return {s.name: (cold[s.name], tuple(statistics.median(x[k] for x in warm[s.name])
                                         for k in range(3)))
            for s in servers}


def fmt(name, r):
    return f"{name} {r[0]:6.2f} s {r[1]:6.2f} s CPU {r[2] / 1024:6.1f} MiB"


def main():
    if os.geteuid() != 0:
        print("pop3: needs root (pop3d and Dovecot switch to the mailbox owner); skipped")
        return
    for p in ("posthorn", "master", "pop3d", "auth"):
        if not (BUILD / "bin" / p).exists():
            print(f"pop3: {p} is not built; skipped")
            return
    owner = pwd.getpwnam("nobody")
    print(f"pop3 download: {MESSAGES} messages of ~4 KiB, LIST, UIDL, RETR each, one client; "
          f"warm = median of {RUNS}")
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp)
        base.chmod(0o755)
        maildir = base / "mail" / "user"
        expected = make_maildir(maildir, owner)
        servers = [Posthorn(base, maildir, owner)]
        if Dovecot.available():
            servers.append(Dovecot(base, maildir, owner))
        results = run_all(servers, expected)
    for i, label in enumerate(("cold", "warm")):
        ours = results["posthorn"][i]
        line = f"  {label}  {fmt('posthorn', ours)}"
        if "dovecot" in results:
            theirs = results["dovecot"][i]
            line += (f" | {fmt('dovecot', theirs)} | ratio time {ours[0] / theirs[0]:4.2f} "
                     f"cpu {ours[1] / max(theirs[1], 0.01):4.2f} mem {ours[2] / theirs[2]:4.2f}")
        else:
            line += " | dovecot: not installed (apt-get install dovecot-pop3d)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
