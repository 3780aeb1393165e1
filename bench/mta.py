"""Running a Posthorn and a Postfix instance side by side for the benchmarks.

Both instances live in temporary directories, listen on loopback ports only
and deliver the benchmark domain to virtual Maildirs, so what is compared is
the same work: SMTP in, queue with fsync, schedule, deliver, fsync.

Resources are measured over an instance's process tree, rooted at its master:
- CPU seconds: master's own time plus the time of the children it has reaped
  (cutime/cstime of /proc/PID/stat) plus the time of the children still
  alive; sampled before and after a run, the difference is the run's.
- memory: the sum of the proportional set size (Pss, /proc/PID/smaps_rollup)
  of every process of the tree, sampled every 50 ms; the peak is reported.
  Pss counts shared pages once across the processes that share them, so a
  design with many processes is not charged for its shared libraries twice.

Each instance runs in a scratch directory of its own (scratch()): by default,
as root, a new ext4 file system with Debian's defaults (journal included) in
a loop-mounted image, made for that one run. Neither instance then inherits
the other's file system state. It matters: on a file system without a
journal, ext4 will not reuse an inode freed in the last 5 s (300 s while its
inode table block is dirty) and looks at each such inode on every file
creation, so a run that follows another on the same file system pays for
every queue file the first one removed; identical runs measured 320 to
680 msg/s that way. BENCH_FS=tmp runs in a plain temporary directory
instead.
"""
import contextlib
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
POSTFIX = shutil.which("postfix") or ("/usr/sbin/postfix" if os.path.exists("/usr/sbin/postfix") else None)
SMTP_SOURCE = shutil.which("smtp-source") or (
    "/usr/sbin/smtp-source" if os.path.exists("/usr/sbin/smtp-source") else None)
DOMAIN = "bench.test"
FS = os.environ.get("BENCH_FS", "ext4")
FS_SIZE = os.environ.get("BENCH_FS_SIZE", "4G")


def _run(*args):
    subprocess.run(args, check=True, capture_output=True)


@contextlib.contextmanager
def scratch():
    """A directory for one instance's run (see the module's text)."""
    if FS == "tmp" or os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        with tempfile.TemporaryDirectory(prefix="posthorn-bench-") as d:
            os.chmod(d, 0o755)
            yield d
        return
    with tempfile.TemporaryDirectory(prefix="posthorn-bench-fs-") as holder:
        os.chmod(holder, 0o755)
        image, mnt = os.path.join(holder, "fs.img"), os.path.join(holder, "mnt")
        os.mkdir(mnt)
        _run("truncate", "-s", FS_SIZE, image)
        # Inode tables and journal written now, not by a kernel thread during the run.
        _run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image)
        _run("mount", "-o", "loop", image, mnt)
        try:
            os.chmod(mnt, 0o755)
            d = os.path.join(mnt, "run")
            os.mkdir(d, 0o755)
            yield d
        finally:
            subprocess.run(["sync"], check=False)
            subprocess.run(["umount", mnt], check=False, capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def descendants(root):
    """root and every process below it."""
    parent = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                parent[int(e)] = int(_stat(e)[1])
            except (OSError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


def tree_cpu(root):
    """CPU seconds of the tree: root's own and reaped children's, plus the living."""
    total = 0.0
    for pid in descendants(root):
        try:
            f = _stat(pid)
        except OSError:
            continue
        ticks = int(f[11]) + int(f[12])  # utime, stime
        if pid == root:
            ticks += int(f[13]) + int(f[14])  # cutime, cstime
        total += ticks / CLK_TCK
    return total


def tree_pss_kib(root):
    total = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class Sampler:
    """Samples the tree's Pss every 50 ms in a thread; peak in KiB."""

    def __init__(self, root):
        self.root, self.peak, self._stop = root, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_pss_kib(self.root))
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def count_files(d):
    try:
        return sum(1 for _ in os.scandir(d))
    except FileNotFoundError:
        return 0


class PosthornInstance:
    name = "posthorn"

    def __init__(self, build, base, deliver=True):
        self.build = pathlib.Path(build).resolve()
        self.deliver = deliver
        self.dir = pathlib.Path(base) / "posthorn"
        self.dir.mkdir(parents=True)
        self.port = free_port()
        self.maildir = self.dir / "mail" / DOMAIN / "user"
        main = {
            "queue_directory": "spool", "data_directory": "data", "maillog_file": "maillog",
            "myhostname": "phbench.test", "mydestination": "", "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "virtual_mailbox_domains": DOMAIN, "virtual_mailbox_base": str(self.dir / "mail"),
            "virtual_mailbox_maps": f"inline:{{ u@{DOMAIN}={DOMAIN}/user/ }}",
        }
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            main.update(mail_owner="nobody", setgid_group="nogroup",
                        virtual_uid_maps=f"static:{nobody.pw_uid}",
                        virtual_gid_maps=f"static:{nobody.pw_gid}")
            (self.dir / "mail").mkdir()
            os.chown(self.dir / "mail", nobody.pw_uid, nobody.pw_gid)
        else:
            main.update(virtual_uid_maps=f"static:{os.getuid()}",
                        virtual_gid_maps=f"static:{os.getgid()}")
        (self.dir / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        services = f"127.0.0.1:{self.port} inet n - n - - smtpd\n"
        if deliver:  # without them mail stays in incoming/: acceptance alone is measured
            services += ("qmgr unix n - n 300 1 qmgr\n"
                         "local unix - n n - - local\n"
                         "virtual unix - n n - - local\n")
        (self.dir / "master.cf").write_text(services)

    def missing(self):
        progs = ("posthorn", "master", "smtpd") + (("qmgr", "local") if self.deliver else ())
        return [p for p in progs if not (self.build / "bin" / p).exists()]

    def queued(self):
        return count_files(self.dir / "spool" / "incoming")

    def start(self):
        r = subprocess.run([str(self.build / "bin" / "posthorn"), "-c", str(self.dir), "start"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"posthorn start: {r.stderr}")
        wait_for(lambda: port_open(self.port), 10, "posthorn smtpd")

    def master_pid(self):
        return int((self.dir / "data" / "master.lock").read_text().strip())

    def delivered(self):
        return count_files(self.maildir / "new")

    def stop(self):
        subprocess.run([str(self.build / "bin" / "posthorn"), "-c", str(self.dir), "stop"],
                       capture_output=True)


class PostfixInstance:
    name = "postfix"

    def __init__(self, base, deliver=True):
        self.dir = pathlib.Path(base) / "postfix"
        self.dir.mkdir(parents=True)
        self.port = free_port()
        self.maildir = self.dir / "mail" / "user"
        nobody = pwd.getpwnam("nobody")
        for d in ("spool", "data", "mail"):
            (self.dir / d).mkdir()
        shutil.chown(self.dir / "data", "postfix")
        os.chown(self.dir / "mail", nobody.pw_uid, nobody.pw_gid)
        d = self.dir
        (d / "main.cf").write_text(f"""compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
alternate_config_directories = {d}
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = pfbench.test
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = static:user/
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
""" + ("" if deliver else "in_flow_delay = 0\n"))  # no qmgr hands out flow tokens
        master = pathlib.Path("/etc/postfix/master.cf").read_text().splitlines()
        out = []
        for line in master:
            if line.startswith("smtp ") and " inet " in line:
                line = f"127.0.0.1:{self.port}      inet  n       -       n       -       -       smtpd"
            if not deliver and line.split()[:2] == ["qmgr", "unix"]:
                continue  # mail stays in incoming/: acceptance alone is measured
            out.append(line)
        (d / "master.cf").write_text("\n".join(out) + "\n")

    @staticmethod
    def available():
        return POSTFIX is not None and os.geteuid() == 0

    def start(self):
        # postfix talks to a terminal or to syslog only; script(1) gives it one
        r = subprocess.run(["script", "-qc", f"{POSTFIX} -c {self.dir} start", "/dev/null"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"postfix start: {r.stdout}{r.stderr}")
        wait_for(lambda: port_open(self.port), 10, "postfix smtpd")

    def master_pid(self):
        return int((self.dir / "spool" / "pid" / "master.pid").read_text().strip())

    def delivered(self):
        return count_files(self.maildir / "new")

    def queued(self):
        return count_files(self.dir / "spool" / "incoming")

    def stop(self):
        subprocess.run(["script", "-qc", f"{POSTFIX} -c {self.dir} stop", "/dev/null"],
                       capture_output=True)


# --- relay variants: SMTP in, through the queue, out by SMTP to a sink -------

class SmtpSink:
    """Postfix's smtp-sink on a loopback port, counting delivered messages
    (its -c counter: "sess=N quit=N mesg=N" written to its stdout)."""

    def __init__(self, base):
        self.port = free_port()
        self.out = open(pathlib.Path(base) / "sink.out", "w+b")
        args = [SMTP_SINK, "-c", f"127.0.0.1:{self.port}", "256"]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "nobody"]
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port), 10, "smtp-sink")
        self.base_count = self.count()  # port_open's probe counts as a session, not a message

    def count(self):
        self.out.flush()
        with open(self.out.name, "rb") as f:
            text = f.read()
        marks = text.rsplit(b"mesg=", 1)
        if len(marks) < 2:
            return 0
        digits = b""
        for c in marks[1]:
            if not chr(c).isdigit():
                break
            digits += bytes([c])
        return int(digits or b"0")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.out.close()


SMTP_SINK = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if os.path.exists("/usr/sbin/smtp-sink") else None)


class RelayPosthornInstance(PosthornInstance):
    """Posthorn relaying everything for DOMAIN to relayhost [127.0.0.1]:SINK."""

    def __init__(self, build, base, sink_port):
        super().__init__(build, base, deliver=True)
        main = {
            "queue_directory": "spool", "data_directory": "data", "maillog_file": "maillog",
            "myhostname": "phbench.test", "mydestination": "", "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
            "relayhost": f"[127.0.0.1]:{sink_port}",
        }
        if os.geteuid() == 0:
            main.update(mail_owner="nobody", setgid_group="nogroup")
        (self.dir / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.dir / "master.cf").write_text(
            f"127.0.0.1:{self.port} inet n - n - - smtpd\n"
            "qmgr unix n - n 300 1 qmgr\n"
            "smtp unix - - n - - smtp\n"
            "relay unix - - n - - smtp\n")

    def missing(self):
        return [p for p in ("posthorn", "master", "smtpd", "qmgr", "smtp")
                if not (self.build / "bin" / p).exists()]


class RelayPostfixInstance(PostfixInstance):
    """The same relay path through Postfix (smtp not chrooted, as ours)."""

    def __init__(self, base, sink_port):
        super().__init__(base, deliver=True)
        main = (self.dir / "main.cf").read_text()
        main = "\n".join(l for l in main.splitlines() if not l.startswith("virtual_"))
        main += f"\nrelayhost = [127.0.0.1]:{sink_port}\n"
        (self.dir / "main.cf").write_text(main)
        out = []
        for line in (self.dir / "master.cf").read_text().splitlines():
            f = line.split()
            if len(f) > 7 and f[1] == "unix" and f[7] == "smtp":
                line = f"{f[0]} unix - - n - - smtp"
            out.append(line)
        (self.dir / "master.cf").write_text("\n".join(out) + "\n")
