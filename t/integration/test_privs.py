"""What master gives the processes it starts: identity, chroot, verbosity.

Started as root (CI is root), every daemon but master and local must run as
mail_owner with no supplementary groups (pop3d keeps root as its saved uid
until a login makes it the mailbox owner), and a service marked chroot must be
jailed in the spool and still answer and log. Those tests are skipped for any
other user, who cannot switch identity. The -v tests run everywhere.
"""
import datetime
import os
import smtplib
import socket
import subprocess
import zoneinfo

import pytest

from instance import BUILD, EchoClient, Instance, free_port, wait_for
from test_init import make_init, open_dir  # noqa: F401 (fixtures)

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0,
                               reason="privilege drops happen only when started as root")
NOBODY = 65534  # mail_owner in the tests (instance.py, posthorn init's default)
NOGROUP = 65534


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


@pytest.fixture
def make_instance(open_dir):  # noqa: F811
    made = []

    def make(main=None, services=()):
        inst = Instance(open_dir / f"inst{len(made)}", main, services)
        made.append(inst)
        return inst
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def service_sockets(inst):
    """(program, how to reach it) for every master.cf service whose program is built."""
    out = []
    m = subprocess.run([str(BUILD / "bin" / "posthorn"), "conf", "-c", str(inst.dir), "-M"],
                       capture_output=True, text=True, timeout=30)
    for e in (line.split() for line in m.stdout.splitlines()):
        name, kind, private, program = e[0], e[1], e[2], e[7]
        if not (BUILD / "bin" / program).exists():
            continue
        if kind == "inet":
            out.append((program, ("127.0.0.1", int(name.rsplit(":", 1)[-1]))))
        else:
            where = "public" if private == "n" else "private"
            out.append((program, str(inst.dir / "spool" / where / name)))
    return out


@ROOT_ONLY
def test_every_daemon_but_master_and_local_runs_as_mail_owner_without_groups(make_init):
    inst = make_init()
    assert inst.made.returncode == 0, inst.made.stderr
    inst.start()
    # A connection to every service whose program is built makes master start
    # one process for each (the SMTP ones, at least, are always there).
    targets = service_sockets(inst)
    assert sum(p == "smtpd" for p, _ in targets) == 3
    held = []
    try:
        for _, where in targets:
            family = socket.AF_INET if isinstance(where, tuple) else socket.AF_UNIX
            s = socket.socket(family)
            held.append(s)
            s.settimeout(10)
            s.connect(where)
        want = {}
        for program, _ in targets:
            want[program] = want.get(program, 0) + 1

        def started():
            names = [comm(p) for p in inst.children()]
            return all(names.count(n) >= k for n, k in want.items()) and names
        names = wait_for(started, timeout=20, what=f"processes {want}")

        # A process is root until its start-up reaches the drop: wait for that.
        def dropped():
            for p in inst.children():
                try:
                    if comm(p) != "local" and proc_status(p)["Uid"].split()[0] == "0":
                        return False
                except FileNotFoundError:  # gone since children() listed it
                    pass
            return True
        wait_for(dropped, what="every new process to finish its start-up")
        for pid in inst.children():
            s = proc_status(pid)
            if comm(pid) == "local":  # root between deliveries, as Postfix's local
                assert s["Uid"].split() == ["0"] * 4
                continue
            if comm(pid) in ("pop3d", "imapd"):  # mail_owner until a login; root kept as saved uid only
                assert s["Uid"].split() == [str(NOBODY)] * 2 + ["0", str(NOBODY)]
                assert s["Gid"].split() == [str(NOGROUP)] * 4
                assert s["Groups"].split() == []
                continue
            assert s["Uid"].split() == [str(NOBODY)] * 4, (comm(pid), s["Uid"])
            assert s["Gid"].split() == [str(NOGROUP)] * 4, (comm(pid), s["Gid"])
            assert s["Groups"].split() == [], (comm(pid), s["Groups"])
        assert len(names) >= 3
        assert proc_status(inst.master_pid())["Uid"].split() == ["0"] * 4
    finally:
        for s in held:
            s.close()


def log_time(line, tz):
    """The time stamp of a syslog-shaped line ("Nov 23 10:00:00 ..."), in tz."""
    stamp = datetime.datetime.strptime(" ".join(line.split()[:3]), "%b %d %H:%M:%S")
    now = datetime.datetime.now(tz)
    return stamp.replace(year=now.year, tzinfo=tz), now


@ROOT_ONLY
def test_a_chrooted_service_is_jailed_in_the_spool_and_still_answers_and_logs(make_instance):
    port = free_port()
    inst = make_instance({"daemon_directory": str(BUILD / "bin"), "mydestination": "example.org"},
                         [f"127.0.0.1:{port} inet n - y - - smtpd"])
    # A time zone that is not UTC, from a zone file that is out of the jail's
    # reach: the time stamps of the jailed smtpd must still be local time.
    env = dict(os.environ, TZ="Asia/Tokyo")
    env.pop("MAIL_CONFIG", None)
    r = subprocess.run([str(BUILD / "bin" / "posthorn"), "-c", str(inst.dir), "start"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    inst.seen.add(inst.master_pid())
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        assert s.ehlo("client.example")[0] == 250
        assert s.sendmail("a@client.example", ["b@example.org"], b"Subject: jail\r\n\r\nx\r\n") == {}
        [pid] = inst.children()
        spool = str((inst.dir / "spool").resolve())
        assert os.readlink(f"/proc/{pid}/root") == spool  # "/" is the spool
        assert os.readlink(f"/proc/{pid}/cwd") == spool
        assert proc_status(pid)["Uid"].split() == [str(NOBODY)] * 4
    # The queue file was written from inside the jail.
    assert len(list((inst.dir / "spool" / "incoming").iterdir())) == 1
    # And the jailed process logged, to the file it opened before the chroot.
    line = wait_for(lambda: [l for l in inst.log().splitlines()
                             if f"smtpd[{pid}]: disconnect from unknown[127.0.0.1]" in l],
                    what="the jailed smtpd's log line")[0]
    stamp, now = log_time(line, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert abs((now - stamp).total_seconds()) < 120, f"{line!r} is not Tokyo time ({now})"


# Starts `posthorn start` in a private mount namespace whose /dev is a fresh
# tmpfs with null, zero, random, urandom and a log socket bound in: syslog for
# this instance alone, and nothing outside the test changes.
PRIVATE_DEV = """
mount --bind /dev "$1/olddev"
mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero random urandom; do touch /dev/$n; mount --bind "$1/olddev/$n" /dev/$n; done
touch /dev/log
mount --bind "$1/log.sock" /dev/log
exec "$2" -c "$3" start
"""


@ROOT_ONLY
def test_a_chrooted_service_logs_to_syslog(make_instance, open_dir):  # noqa: F811
    port = free_port()
    inst = make_instance({"daemon_directory": str(BUILD / "bin"), "mydestination": "example.org",
                          "maillog_file": ""}, [f"127.0.0.1:{port} inet n - y - - smtpd"])
    (open_dir / "olddev").mkdir()
    syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    syslog.bind(str(open_dir / "log.sock"))
    syslog.settimeout(0.2)
    try:
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-euc",
                            PRIVATE_DEV, "sh", str(open_dir), str(BUILD / "bin" / "posthorn"),
                            str(inst.dir)], capture_output=True, text=True, timeout=60)
        if r.returncode != 0 and inst.master_pid() is None and "mount" in r.stderr:
            pytest.skip(f"no private mount namespace here: {r.stderr.strip()}")
        assert r.returncode == 0, r.stderr
        inst.seen.add(inst.master_pid())
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            assert s.sendmail("a@client.example", ["b@example.org"], b"Subject: x\r\n\r\nx\r\n") == {}
            [pid] = inst.children()
            assert os.readlink(f"/proc/{pid}/root") == str((inst.dir / "spool").resolve())
        lines = []

        def logged():
            try:
                lines.append(syslog.recv(65536).decode())
            except socket.timeout:
                pass
            return any(f"posthorn/smtpd[{pid}]: disconnect from unknown[127.0.0.1]" in l
                       for l in lines)
        wait_for(logged, what="the jailed smtpd's syslog line")
        assert any(l.startswith("<22>") and "posthorn/master[" in l for l in lines)  # mail.info
        assert any(f"posthorn/smtpd[{pid}]: connect from unknown[127.0.0.1]" in l for l in lines)
    finally:
        syslog.close()


def master_started(inst, *args):
    """Runs master -c DIR -w ARGS (posthorn start has no -v to pass on)."""
    r = subprocess.run([str(BUILD / "bin" / "master"), "-c", str(inst.dir), "-w", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    inst.seen.add(inst.master_pid())


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")[:-1]


def test_master_v_is_passed_to_every_child(make_instance):
    port = free_port()
    inst = make_instance(None, [Instance.echo_service(port)])
    master_started(inst, "-v")
    c = EchoClient(port)
    assert cmdline(c.pid).count(b"-v") == 1
    inst.wait_log(f"service 127.0.0.1:{port}/inet: started {BUILD / 't' / 'progs' / 'echod'} "
                  f"pid {c.pid}")
    c.close()
    assert inst.stop().returncode == 0
    # A child's -v shows in what it logs: retiring is logged only when verbose.
    assert f"echod[{c.pid}]: retiring: master asked" in inst.log()


def test_master_cf_v_reaches_its_child_and_no_v_stays_quiet(make_instance):
    loud, quiet = free_port(), free_port()
    inst = make_instance(None, [Instance.echo_service(loud, args="-v"),
                                Instance.echo_service(quiet)])
    master_started(inst)
    a, b = EchoClient(loud), EchoClient(quiet)
    assert cmdline(a.pid).count(b"-v") == 1 and b"-v" not in cmdline(b.pid)
    a.close()
    b.close()
    assert inst.stop().returncode == 0
    log = inst.log()
    assert f"echod[{a.pid}]: retiring: master asked" in log
    assert f"echod[{b.pid}]: retiring" not in log
    assert ": started " not in log  # master itself was not asked to be verbose
