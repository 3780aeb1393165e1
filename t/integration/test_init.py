"""`posthorn init` and `make run` (scripts/run.sh): a ready instance in a folder.

Each test makes its instance in a fresh directory that every user can search
(pytest's own tmp_path is private to its owner: started as root, the daemons
run as nobody and must reach the tables and the certificate), on seven free
consecutive loopback ports, and stops it at the end.
"""
import ctypes
import os
import pathlib
import random
import shutil
import smtplib
import socket
import ssl
import stat
import subprocess
import tempfile

import pytest

from instance import BUILD, ROOT, Instance, pid_alive, wait_for
from test_qmgr import wake

PLAN = [("smtp", "smtpd"), ("submission", "smtpd"), ("smtps", "smtpd"), ("pop3", "pop3d"),
        ("pop3s", "pop3d"), ("imap", "imapd"), ("imaps", "imapd")]
UNIX_SERVICES = ["pickup", "qmgr", "smtp", "relay", "local", "virtual", "auth"]
AS_ROOT = os.geteuid() == 0
OWNER_UID = 65534 if AS_ROOT else os.getuid()  # nobody: init's --user default for root


def free_port_base(count=len(PLAN)):
    """A base port with `count` free loopback ports from it."""
    for _ in range(200):
        base = random.randint(20000, 60000 - count)
        held = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise AssertionError("no free run of ports")


def posthorn(*args, env=None, timeout=60):
    full = dict(os.environ)
    full.pop("MAIL_CONFIG", None)
    full.update(env or {})
    return subprocess.run([str(BUILD / "bin" / "posthorn"), *map(str, args)], env=full,
                          capture_output=True, text=True, timeout=timeout)


class InitInstance(Instance):
    """An instance that `posthorn init` makes now on free ports (made=False: one
    that something else makes in `directory`). Instance's writers are not used."""

    def __init__(self, directory, *init_args, made=True):
        self.dir = pathlib.Path(directory)
        self.seen = set()
        self.base = self.made = None
        if made:
            self.base = free_port_base()
            self.made = posthorn("init", self.dir, "--port-base", self.base, *init_args)

    def password(self):
        lines = (self.dir / "demo-password").read_text().splitlines()
        return [line for line in lines if not line.startswith("#")][0]


@pytest.fixture
def open_dir():
    """A temporary directory every user can search, removed afterwards."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-init-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def make_init(open_dir):
    made = []

    def make(*init_args, name="inst"):
        inst = InitInstance(open_dir / name, *init_args)
        made.append(inst)
        return inst
    yield make
    left = []
    for inst in made:
        if (inst.dir / "main.cf").exists():
            left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def crypt_matches(password, hashed):
    """crypt(3) through libcrypt itself, independent of the code under test."""
    libcrypt = ctypes.CDLL("libcrypt.so.1")
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return libcrypt.crypt(password.encode(), hashed.encode()).decode() == hashed


def test_init_writes_a_ready_instance(make_init):
    inst = make_init()
    assert inst.made.returncode == 0, inst.made.stderr
    d = inst.dir
    for name in ("main.cf", "master.cf", "vmailbox", "virtual", "passwd", "demo-password",
                 "cert.pem", "key.pem"):
        text = (d / name).read_text()
        assert text.startswith(f"# {name} - "), name  # every file says what it is
    for name, want in (("main.cf", 0o644), ("master.cf", 0o644), ("cert.pem", 0o644),
                       ("key.pem", 0o600), ("passwd", 0o600), ("demo-password", 0o600)):
        assert mode(d / name) == want, name
    for name in ("key.pem", "passwd"):  # read by daemons that run as the owner
        assert (d / name).stat().st_uid == OWNER_UID
    maildir = d / "mail" / "example.test" / "demo"
    for sub in ("cur", "new", "tmp"):
        assert (maildir / sub).is_dir()
    for p in (d / "mail", d / "mail" / "example.test", maildir):
        assert mode(p) == 0o700 and p.stat().st_uid == OWNER_UID
    for q in ("incoming", "active", "deferred", "maildrop", "private", "public"):
        assert (d / "spool" / q).is_dir()
    assert (d / "data").is_dir()

    # What it printed: the plan in order, the files, the login and password.
    out = inst.made.stdout
    positions = [out.index(f"127.0.0.1:{inst.base + i}") for i in range(len(PLAN))]
    assert positions == sorted(positions)
    for (name, _), pos in zip(PLAN, positions):
        assert out[pos:].split()[1] == name
    password = inst.password()
    assert len(password) == 16
    assert f"login demo@example.test  password {password}" in out

    # The password table holds only a SHA-512 crypt hash of it.
    entries = [line.split() for line in (d / "passwd").read_text().splitlines()
               if line and not line.startswith("#")]
    assert len(entries) == 1 and entries[0][0] == "demo@example.test"
    scheme, hashed = entries[0][1][:len("{SHA512-CRYPT}")], entries[0][1][len("{SHA512-CRYPT}"):]
    assert scheme == "{SHA512-CRYPT}" and hashed.startswith("$6$")
    assert crypt_matches(password, hashed)
    assert not crypt_matches(password + "x", hashed)
    assert password not in (d / "passwd").read_text()

    # The configuration: the port plan and the full set of services.
    m = posthorn("conf", "-c", d, "-M")
    assert m.returncode == 0, m.stderr
    entries = [line.split() for line in m.stdout.splitlines()]
    inet = [(e[0], e[7]) for e in entries if e[1] == "inet"]
    assert inet == [(str(inst.base + i), prog) for i, (_, prog) in enumerate(PLAN)]
    assert [e[0] for e in entries if e[1] == "unix"] == UNIX_SERVICES
    values = posthorn("conf", "-c", d, "-x", "-h", "inet_interfaces", "virtual_mailbox_domains",
                      "virtual_mailbox_maps", "virtual_uid_maps", "queue_directory")
    assert values.stdout.split("\n")[:5] == [
        "127.0.0.1", "example.test", f"texthash:{d}/vmailbox", f"static:{OWNER_UID}", "spool"]

    # posthorn check finds nothing to say, and nothing to repair.
    for flags in ((), ("-n",)):
        c = posthorn("check", "-c", d, *flags)
        assert (c.returncode, c.stderr) == (0, ""), c.stderr

    # The certificate is for the instance's host name and localhost, and the
    # key is its key.
    ctx = ssl.create_default_context()
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    cert = ssl._ssl._test_decode_cert(str(d / "cert.pem"))
    assert dict(x[0] for x in cert["subject"])["commonName"] == "mail.example.test"
    assert ("DNS", "localhost") in cert["subjectAltName"]


def test_a_fresh_instance_starts_takes_mail_and_stops(make_init):
    inst = make_init()
    assert inst.made.returncode == 0, inst.made.stderr
    inst.start()
    pids = [inst.master_pid()]
    with smtplib.SMTP("127.0.0.1", inst.base, timeout=10) as s:
        code, _ = s.ehlo("client.example")
        assert code == 250
        assert s.sendmail("someone@example.org", ["demo@example.test"],
                          b"Subject: init test\r\n\r\nhello from the test\r\n") == {}
    pids += inst.children()
    wake(inst)  # smtpd does not wake qmgr itself (yet); qmgr's own wakeup is 300 s
    new = inst.dir / "mail" / "example.test" / "demo" / "new"
    files = wait_for(lambda: list(new.iterdir()), timeout=30, what="the mail in the Maildir")
    mail = files[0].read_bytes()
    assert b"hello from the test" in mail and b"Delivered-To: demo@example.test" in mail
    assert files[0].stat().st_uid == OWNER_UID  # virtual_uid_maps
    inst.wait_log("status=sent (delivered to maildir)")
    # Programs that are not built are throttled; everything else runs on.
    assert inst.running()
    r = inst.stop()
    assert r.returncode == 0, r.stderr
    assert [p for p in pids if pid_alive(p)] == []


def test_init_refuses_an_existing_instance_unless_forced(make_init, open_dir):
    inst = make_init()
    before = {n: (inst.dir / n).read_text() for n in ("main.cf", "passwd", "demo-password")}
    again = posthorn("init", inst.dir, "--port-base", inst.base)
    assert again.returncode == 73
    assert "already has an instance" in again.stderr and "--force" in again.stderr
    assert {n: (inst.dir / n).read_text() for n in before} == before

    kept = inst.dir / "mail" / "example.test" / "demo" / "new" / "1.kept"
    kept.write_text("Subject: old mail\n\nstill here\n")
    forced = posthorn("init", inst.dir, "--port-base", inst.base, "--force")
    assert forced.returncode == 0, forced.stderr
    assert inst.password() != before["demo-password"].splitlines()[-1]
    assert (inst.dir / "passwd").read_text() != before["passwd"]
    assert kept.read_text().endswith("still here\n")  # the mail store is kept


def test_init_refuses_to_rewrite_a_running_instance(make_init):
    inst = make_init()
    inst.start()
    r = posthorn("init", inst.dir, "--force")
    assert r.returncode == 1
    assert f"is running (master pid {inst.master_pid()})" in r.stderr
    assert inst.running()


@pytest.mark.parametrize("args, status, message", [
    (["--domain", "bad_domain.test"], 64, "each label is 1 to 63 letters"),
    (["--domain", "single"], 64, "at least two labels"),
    (["--listen", "mail.example"], 64, "expected an IPv4 or IPv6 address"),
    (["--port-base", "65530"], 64, "expected a number from 1 to 65529"),
    (["--port-base", "0"], 64, "expected a number from 1 to 65529"),
    (["--bogus"], 64, "unknown option --bogus"),
    (["--force=yes"], 64, "takes no value"),
    (["second-dir"], 64, "unexpected argument second-dir"),
])
def test_init_refuses_bad_options(open_dir, args, status, message):
    r = posthorn("init", open_dir / "x", *args)
    assert r.returncode == status
    assert message in r.stderr and "usage: posthorn init DIR" in r.stderr
    assert not (open_dir / "x").exists()


def test_init_refuses_a_directory_main_cf_lists_would_split(open_dir):
    r = posthorn("init", open_dir / "with space")
    assert r.returncode == 64 and "may not contain white space" in r.stderr
    assert not (open_dir / "with space").exists()


def test_init_needs_a_directory_and_has_help(open_dir):
    r = posthorn("init")
    assert r.returncode == 64 and "no directory given" in r.stderr
    h = posthorn("init", "--help")
    assert h.returncode == 0 and h.stdout.startswith("usage: posthorn init DIR")
    assert "--port-base 2525" in h.stdout


def test_init_options_shape_the_instance(make_init):
    inst = make_init("--domain", "Mail.Example.ORG", "--listen=loopback-only")
    assert inst.made.returncode == 0, inst.made.stderr
    v = posthorn("conf", "-c", inst.dir, "-h", "mydomain", "myhostname", "inet_interfaces")
    assert v.stdout.split() == ["mail.example.org", "mail.mail.example.org", "loopback-only"]
    assert "demo@mail.example.org" in (inst.dir / "vmailbox").read_text()
    assert (inst.dir / "mail" / "mail.example.org" / "demo" / "new").is_dir()
    assert posthorn("check", "-c", inst.dir).returncode == 0


def test_init_for_another_user(make_init, open_dir):
    if AS_ROOT:
        r = posthorn("init", open_dir / "r", "--user", "root")
        assert r.returncode == 64 and "must not run as root" in r.stderr
        r = posthorn("init", open_dir / "n", "--user", "no-such-user-here")
        assert r.returncode == 67 and "no-such-user-here" in r.stderr
        inst = make_init("--user", "daemon")  # an account every Debian has
        assert inst.made.returncode == 0, inst.made.stderr
        conf = posthorn("conf", "-c", inst.dir, "-h", "mail_owner", "virtual_uid_maps")
        assert conf.stdout.split() == ["daemon", "static:1"]
        assert (inst.dir / "passwd").stat().st_uid == 1
        assert "virtual_minimum_uid = 1" in (inst.dir / "main.cf").read_text()
        assert posthorn("check", "-c", inst.dir).returncode == 0
    else:
        r = posthorn("init", open_dir / "x", "--user", "root")
        assert r.returncode == 64 and "only root can" in r.stderr


def test_init_warns_about_a_port_in_use(make_init):
    holder = socket.socket()
    try:
        base = free_port_base()
        holder.bind(("127.0.0.1", base + 3))
        holder.listen()
        inst = make_init("--port-base", str(base))  # the last --port-base wins
        assert inst.made.returncode == 0
        assert f"127.0.0.1:{base + 3} (pop3) is in use now" in inst.made.stderr
    finally:
        holder.close()


@pytest.mark.skipif(not AS_ROOT, reason="only root makes instances for another user")
def test_init_as_root_warns_when_the_owner_cannot_reach_the_folder(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    r = posthorn("init", private / "inst", "--port-base", free_port_base())
    assert r.returncode == 0
    assert f"nobody cannot search {private}" in r.stderr


def run_script(action, run_dir, base, timeout=120):
    env = dict(os.environ, RUN_DIR=str(run_dir), PORT_BASE=str(base))
    env.pop("MAIL_CONFIG", None)
    return subprocess.run([str(ROOT / "scripts" / "run.sh"), str(BUILD), action], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_make_run_flow_through_run_script(open_dir):
    run_dir = open_dir / "run"
    base = free_port_base()
    inst = InitInstance(run_dir, made=False)  # run.sh makes it
    try:
        r = run_script("start", run_dir, base)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "posthorn init: made an instance in" in r.stdout
        assert f"Posthorn runs in {run_dir} (master pid {inst.master_pid()})" in r.stdout
        password = inst.password()
        assert f"password {password}" in r.stdout
        lines = r.stdout.splitlines()
        swaks = [l.strip() for l in lines if l.strip().startswith("swaks ")]
        one_liner = [l.strip() for l in lines if l.strip().startswith("python3 -c 'import smtplib")]
        assert swaks and f"--port {base}" in swaks[0] and "--to demo@example.test" in swaks[0]
        assert one_liner and f", {base})" in one_liner[0]
        assert any(f"poplib.POP3_SSL(\"localhost\", {base + 4}" in l for l in lines)
        assert any(f"imaplib.IMAP4_SSL(\"localhost\", {base + 6}" in l for l in lines)
        # The printed commands work as printed.
        sent = subprocess.run(one_liner[0], shell=True, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        if shutil.which("swaks"):
            sw = subprocess.run(swaks[0], shell=True, capture_output=True, text=True, timeout=60)
            assert sw.returncode == 0, sw.stdout + sw.stderr
            assert "250 2.0.0 Ok: queued as" in sw.stdout
        wake(inst)  # smtpd does not wake qmgr itself (yet)
        new = run_dir / "mail" / "example.test" / "demo" / "new"
        mails = 2 if shutil.which("swaks") else 1
        wait_for(lambda: len(list(new.iterdir())) == mails, timeout=30, what="delivery")

        again = run_script("start", run_dir, base)
        assert again.returncode == 0 and "already running" in again.stdout
        assert "posthorn init" not in again.stdout  # the instance is made once

        stop = run_script("stop", run_dir, base)
        assert stop.returncode == 0 and "stopped the instance" in stop.stdout
        assert not inst.running()
        stop = run_script("stop", run_dir, base)
        assert stop.returncode == 0 and "is not running" in stop.stdout
    finally:
        if (run_dir / "main.cf").exists():
            assert inst.teardown() == []
