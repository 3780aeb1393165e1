"""End to end: smtplib -> smtpd -> qmgr -> local, in one real instance.

Nothing is played by a test program here: smtpd queues what smtplib sends,
qmgr schedules it, local expands aliases, runs commands and writes Maildirs
and mbox files, bounces come back to the sender's own virtual mailbox as
DSNs, and `posthorn queue` steers the queue while all of it runs. The
back-off is shortened (minimal_backoff_time 1s, maximal_backoff_time 2s,
queue_run_delay 1s) so that retries happen within a test.

Command deliveries are small shell scripts in a directory every uid can
reach: as root (CI) local runs them as default_privs (nobody), and they
record each attempt in files there, so a test can count attempts and
deliveries. Run as root, the system-account test creates an account and
removes it afterwards; run as anyone else, it is skipped.
"""
import email
import email.policy
import os
import pathlib
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
import uuid

import pytest

from instance import Instance, BUILD, children_of, free_port, pid_alive, wait_for
from test_qmgr import wake

ROOT = os.geteuid() == 0
VUID = 4242 if ROOT else os.getuid()
VGID = 4242 if ROOT else os.getgid()
QUEUES = ("incoming", "active", "deferred", "hold")
SENDER = "sender@v.test"


@pytest.fixture
def shared_dir():
    """A directory every uid can reach (tmp_path is root's alone): mail
    stores, the mail spool, scripts and what the scripts write."""
    d = tempfile.mkdtemp(prefix="posthorn-e2e-")
    os.chmod(d, 0o755)
    for sub, mode in (("drop", 0o1777), ("mailspool", 0o1777), ("bin", 0o755)):
        os.mkdir(os.path.join(d, sub))
        os.chmod(os.path.join(d, sub), mode)
    base = os.path.join(d, "vmail")
    os.mkdir(base)
    os.chown(base, VUID, VGID)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


class Chain:
    """A started instance with smtpd, qmgr, local and virtual."""

    def __init__(self, inst, port, shared):
        self.inst, self.port, self.shared = inst, port, shared
        self.spool = inst.dir / "spool"
        self.drop = shared / "drop"
        self.vmail = shared / "vmail"

    def send(self, rcpts, subject="test", sender=SENDER, body=None, smtp=None, wake_qmgr=True):
        """One message through SMTP; returns its queue ID."""
        body = body if body is not None else f"body of {subject}\r\n"
        msg = (f"From: {sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{uuid.uuid4().hex}@client.test>\r\n\r\n{body}").encode()
        own = smtp is None
        s = smtp or self.connect()
        try:
            s.mail(sender)
            for r in rcpts:
                code, text = s.rcpt(r)
                assert code == 250, (r, text)
            code, text = s.data(msg)
            assert code == 250, text
        finally:
            if own:
                s.quit()
        if wake_qmgr:  # smtpd does not wake qmgr itself (yet)
            wake(self.inst)
        return text.decode().rsplit(" ", 1)[1]

    def connect(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
        s.ehlo("client.test")
        return s

    def queued(self, queues=QUEUES):
        out = []
        for q in queues:
            d = self.spool / q
            out += [p.name for p in d.iterdir()] if d.exists() else []
        return out

    def wait_empty(self, timeout=30):
        return wait_for(lambda: not self.queued(), timeout, "an empty queue")

    def maildir(self, who):
        new = self.vmail / "v.test" / who / "new"
        return sorted(new.iterdir()) if new.exists() else []

    def parsed(self, who):
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in self.maildir(who)]

    def script(self, name, text):
        """A shell script for a |command alias; DROP in it is the drop directory."""
        path = self.shared / "bin" / name
        path.write_text("#!/bin/sh\n" + text.replace("DROP", str(self.drop)))
        path.chmod(0o755)
        return path

    def drop_lines(self, name):
        try:
            return (self.drop / name).read_text().splitlines()
        except FileNotFoundError:
            return []

    def queue(self, *args):
        r = self.inst.posthorn("queue", *args, timeout=120)
        return r

    def local_pids(self):
        out = []
        for pid in self.inst.children():
            try:
                argv0 = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            except FileNotFoundError:
                continue
            if os.path.basename(argv0.decode()) == "local":
                out.append(pid)
        return out


@pytest.fixture
def chain(tmp_path, shared_dir):
    """make(aliases=TEXT, valiases=TEXT, **main) -> started Chain.
    "{bin}" in aliases stands for the scripts' directory, "{shared}" for
    shared_dir. v.test has the virtual Maildirs bob/, carol/ and sender/."""
    made = []

    def make(aliases="", valiases="", **main):
        n = len(made)
        d = tmp_path / f"inst{n}"
        d.mkdir()
        port = free_port()
        t = shared_dir / f"tables{n}"  # qmgr, as the mail owner, reopens tables
        t.mkdir()
        (d / "aliases").write_text(aliases.replace("{bin}", str(shared_dir / "bin"))
                                   .replace("{shared}", str(shared_dir)))
        (t / "valiases").write_text(valiases)
        (t / "vmailbox").write_text("".join(f"{w}@v.test v.test/{w}/\n"
                                            for w in ("bob", "carol", "sender")))
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "$myhostname, example.org",
            "alias_maps": f"hash:{d / 'aliases'}",
            "alias_database": f"hash:{d / 'aliases'}",
            "virtual_alias_maps": f"texthash:{t / 'valiases'}",
            "virtual_mailbox_domains": "v.test",
            "virtual_mailbox_base": str(shared_dir / "vmail"),
            "virtual_mailbox_maps": f"texthash:{t / 'vmailbox'}",
            "virtual_uid_maps": f"static:{VUID}",
            "virtual_gid_maps": f"static:{VGID}",
            "mail_spool_directory": str(shared_dir / "mailspool"),
            "forward_path": "",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
        }
        settings.update(main)
        inst = Instance(d, settings, [
            f"127.0.0.1:{port} inet n - n - - smtpd",
            "qmgr unix n - n 1 1 qmgr",
            "local unix - n n - - local",
            "virtual unix - n n - - local",
        ])
        r = inst.posthorn("map", "build-aliases", f"hash:{d / 'aliases'}")
        assert r.returncode == 0, r.stderr
        made.append(inst)
        inst.start()
        wait_for(lambda: (d / "spool" / "public" / "qmgr").exists(), 10, "qmgr's socket")
        return Chain(inst, port, shared_dir)
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def the_dsn(c, timeout=30):
    """The one notice in sender@v.test's Maildir, parsed."""
    wait_for(lambda: c.maildir("sender"), timeout, "a notice in the sender's mailbox")
    (dsn,) = c.parsed("sender")
    return dsn


def check_failure_dsn(dsn, final, status, diagnostic, subject):
    assert dsn["To"] == SENDER
    assert dsn["From"].addresses[0].username == "MAILER-DAEMON"
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn["Return-Path"] == "<>"
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    parts = list(dsn.iter_parts())
    assert [p.get_content_type() for p in parts][:2] == ["text/plain", "message/delivery-status"]
    assert final in parts[0].get_content()
    per_message, *per_rcpt = parts[1].get_payload()
    assert per_message["Reporting-MTA"] == "dns; mx.example.org"
    assert per_message["Arrival-Date"]
    (r,) = per_rcpt
    assert r["Final-Recipient"] == f"rfc822; {final}"
    assert r["Action"] == "failed"
    assert r["Status"] == status
    assert diagnostic in r["Diagnostic-Code"]
    assert parts[2].get_content_type() in ("message/rfc822", "text/rfc822-headers")
    assert f"Subject: {subject}" in parts[2].as_string()
    return per_message, r


# --- aliases -----------------------------------------------------------------

def test_alias_list_and_include_reach_two_mailboxes(chain, tmp_path):
    members = tmp_path / "team.list"
    members.write_text("# the team's other half\ncarol@v.test\n")
    c = chain(aliases=f"team: bob@v.test, :include:{members}\n")
    qid = c.send(["team@example.org"], subject="to the team")
    wait_for(lambda: c.maildir("bob") and c.maildir("carol"), 20, "both deliveries")
    c.wait_empty()
    log = c.inst.log()
    m = re.search(rf"{qid}: to=<team@example\.org>, relay=local, .*status=sent \(forwarded as (\w+)\)", log)
    assert m, log
    fwd = m.group(1)
    for who in ("bob", "carol"):
        (msg,) = c.parsed(who)
        assert msg["Subject"] == "to the team"
        assert msg["Return-Path"] == f"<{SENDER}>"
        assert msg.get_all("Delivered-To") == [f"{who}@v.test", "team@example.org"]
        assert msg["X-Original-To"] == "team@example.org"
        assert msg.get_content() == "body of to the team\n"
        assert f"{fwd}: to=<{who}@v.test>, orig_to=<team@example.org>, relay=virtual" in log
        if ROOT:
            assert c.maildir(who)[0].stat().st_uid == VUID
    c.inst.wait_log(f"{qid}: removed")
    c.inst.wait_log(f"{fwd}: removed")
    assert c.maildir("sender") == []  # nothing bounced


def test_alias_loop_is_bounced_with_a_dsn(chain):
    c = chain(aliases="a1: a2\na2: a1\n")
    qid = c.send(["a1@example.org"], subject="round and round")
    dsn = the_dsn(c)
    c.wait_empty()
    per_message, _ = check_failure_dsn(dsn, "a1@example.org", "5.4.6", "alias database loop",
                                       "round and round")
    assert per_message["X-Posthorn-Queue-ID"] == qid
    log = c.inst.log()
    assert re.search(rf"{qid}: to=<a1@example\.org>, relay=local, .*dsn=5\.4\.6, status=bounced", log)
    assert f"{qid}: sender non-delivery notification: " in log


def test_delivered_to_loop_through_the_chain_is_bounced(chain):
    # local forwards ring@example.org to ring@elsewhere.test with a
    # Delivered-To: line; qmgr's virtual alias sends that back to
    # ring@example.org, and local finds its own Delivered-To: a loop.
    c = chain(aliases="ring: ring@elsewhere.test\n",
              valiases="ring@elsewhere.test ring@example.org\n")
    qid = c.send(["ring@example.org"], subject="looping")
    dsn = the_dsn(c)
    c.wait_empty()
    log = c.inst.log()
    m = re.search(rf"{qid}: to=<ring@example\.org>, relay=local, .*status=sent \(forwarded as (\w+)\)", log)
    assert m, log
    fwd = m.group(1)
    # The forwarded copy's original recipient is ring@example.org (local
    # sets it), so the line has no orig_to=, as in Postfix.
    assert re.search(rf"{fwd}: to=<ring@example\.org>, relay=local, "
                     r".*dsn=5\.4\.6, status=bounced \(mail forwarding loop for ring@example\.org\)", log)
    per_message, r = check_failure_dsn(dsn, "ring@example.org", "5.4.6",
                                       "mail forwarding loop for ring@example.org", "looping")
    assert per_message["X-Posthorn-Queue-ID"] == fwd
    # The returned message is the looping one, Delivered-To: and all.
    assert "Delivered-To: ring@example.org" in list(dsn.iter_parts())[2].as_string()
    assert f"{fwd}: sender non-delivery notification: " in log
    assert c.maildir("bob") == []


# --- commands ----------------------------------------------------------------

def test_deferring_command_is_retried_after_the_backoff_and_delivered_once(chain):
    c = chain(aliases='flaky: "|{bin}/flaky"\n')
    c.script("flaky", "date +%s.%N >> DROP/flaky.attempts\n"
                      "if [ -e DROP/flaky.flag ]; then cat >> DROP/flaky.out; exit 0; fi\n"
                      "touch DROP/flaky.flag; exit 75\n")
    qid = c.send(["flaky@example.org"], subject="try again")
    wait_for(lambda: c.drop_lines("flaky.out"), 20, "the second attempt")
    c.wait_empty()
    c.inst.wait_log(f"{qid}: removed")
    attempts = [float(t) for t in c.drop_lines("flaky.attempts")]
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 1.0  # minimal_backoff_time, never less
    assert attempts[1] - attempts[0] < 10
    out = (c.drop / "flaky.out").read_text()
    assert out.count("\nSubject: try again\n") == 1 and out.startswith("From sender@v.test ")
    log = c.inst.log()
    lines = [line for line in log.splitlines() if f"{qid}: to=<flaky@example.org>" in line]
    assert len(lines) == 2
    assert "dsn=4.3.0, status=deferred (temporary failure)" in lines[0]
    assert "status=sent (delivered to command: " in lines[1]
    assert c.maildir("sender") == []


def test_kill_9_of_local_mid_delivery_loses_nothing(chain):
    c = chain(aliases='slow: "|{bin}/slow"\n')
    # Each attempt reads the message, notes its subject as begun, sleeps,
    # then notes it as delivered.
    c.script("slow", "s=$(grep -m1 '^Subject:' | cut -c10-)\n"
                     "echo \"$s\" >> DROP/begun\n"
                     "sleep 2\n"
                     "echo \"$s\" >> DROP/delivered\n")
    direct = [c.send(["bob@v.test"], subject=f"direct {i}") for i in range(3)]
    wait_for(lambda: len(c.maildir("bob")) == 3, 20, "the direct mail")
    slow = [c.send(["slow@example.org", "carol@v.test"], subject=f"slow {i}") for i in range(4)]
    wait_for(lambda: c.drop_lines("begun"), 20, "a command in flight")
    victims = [p for p in c.local_pids() if children_of(p)]
    assert victims, "no local process with a running command"
    in_flight = set(c.drop_lines("begun")) - set(c.drop_lines("delivered"))
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    for pid in victims:
        wait_for(lambda: not pid_alive(pid), 5, "local to die")
    in_flight |= set(c.drop_lines("begun")) - set(c.drop_lines("delivered"))
    c.inst.wait_log(f"pid {victims[0]} killed by signal 9")
    c.wait_empty(timeout=60)
    for qid in slow + direct:
        c.inst.wait_log(f"{qid}: removed")
    delivered = c.drop_lines("delivered")
    assert in_flight
    for i in range(4):
        n = delivered.count(f"slow {i}")
        assert n >= 1, f"slow {i} was lost"
        assert n == 1 or (n == 2 and f"slow {i}" in in_flight), f"slow {i} delivered {n} times"
    subjects = sorted(m["Subject"] for m in c.parsed("carol"))
    assert subjects == [f"slow {i}" for i in range(4)]  # the Maildir part: exactly once
    assert len(c.maildir("bob")) == 3
    log = c.inst.log()
    assert "status=deferred" in log  # the attempt that local did not answer
    assert c.maildir("sender") == []


# --- the queue tools under load ---------------------------------------------

def test_hold_release_requeue_delete_while_qmgr_works(chain):
    c = chain(aliases='gate: "|{bin}/gate"\nbin: "|{bin}/gate"\n')
    c.script("gate", "s=$(grep -m1 '^Subject:' | cut -c10-)\n"
                     "if [ -e DROP/closed ]; then exit 75; fi\n"
                     "echo \"$s\" >> DROP/delivered\n")
    (c.drop / "closed").touch()
    keep, doomed = 290, 10
    s = c.connect()
    try:
        for i in range(keep):
            c.send(["gate@example.org"], subject=f"keep {i}", smtp=s, wake_qmgr=(i % 50 == 0))
        for i in range(doomed):
            c.send(["bin@example.org"], subject=f"doomed {i}", smtp=s, wake_qmgr=False)
    finally:
        s.quit()
    wake(c.inst)
    wait_for(lambda: c.inst.log().count("status=deferred") >= 100, 60, "qmgr deferring the mail")

    r = c.queue("delete", "--to", "bin@example.org", "ALL")
    assert r.returncode == 0, r.stderr
    assert "Deleted: 10 messages" in r.stderr + r.stdout

    r = c.queue("hold", "ALL")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(c.queued(("hold",))) == keep and not c.queued(("incoming", "active", "deferred")),
             20, "every message on hold")
    listed = c.queue("list", "--queue", "hold").stdout
    assert listed.count("gate@example.org") == keep
    # Nothing on hold is tried: the attempts stop (those in flight end).
    before = c.inst.log().count("status=deferred")
    time.sleep(3)  # more than a back-off and a queue run
    after_hold = c.inst.log().count("status=deferred")
    time.sleep(3)
    assert c.inst.log().count("status=deferred") == after_hold, "mail on hold was tried"
    assert after_hold - before < keep

    r = c.queue("release", "ALL")
    assert r.returncode == 0, r.stderr
    assert not c.queued(("hold",))
    r = c.queue("requeue", "ALL")
    assert r.returncode == 0, r.stderr
    (c.drop / "closed").unlink()
    assert c.queue("flush").returncode == 0
    c.wait_empty(timeout=120)
    delivered = c.drop_lines("delivered")
    assert sorted(delivered) == sorted(f"keep {i}" for i in range(keep)), \
        f"{len(delivered)} deliveries, {len(set(delivered))} distinct"
    log = c.inst.log()
    assert log.count(": placed on hold") == keep
    assert log.count(": released from hold") == keep
    assert c.maildir("sender") == []


# --- pflogsumm ------------------------------------------------------------------

def pflogsumm_counts(text):
    counts = {}
    for label in ("received", "delivered", "forwarded", "deferred", "bounced", "rejected"):
        m = re.search(rf"^\s*(\d+)\s+{label}\b", text, re.M)  # "1   deferred  (2  deferrals)"
        counts[label] = int(m.group(1)) if m else None
    return counts


@pytest.mark.skipif(not shutil.which("pflogsumm"), reason="pflogsumm is not installed")
def test_pflogsumm_counts_our_log(chain):
    c = chain(aliases='nope: |exit 67\nteam: bob@v.test, carol@v.test\nflaky: "|{bin}/flaky"\n')
    c.script("flaky", "if [ -e DROP/flaky.flag ]; then exit 0; fi\ntouch DROP/flaky.flag; exit 75\n")
    n, m = 5, 3
    ids = [c.send(["bob@v.test"], subject=f"ok {i}") for i in range(n)]
    ids += [c.send(["nope@example.org"], subject=f"no {i}") for i in range(m)]
    ids.append(c.send(["team@example.org"], subject="forwarded"))
    ids.append(c.send(["flaky@example.org"], subject="deferred once"))
    wait_for(lambda: len(c.maildir("sender")) == m, 30, "the notices")
    for qid in ids:
        c.inst.wait_log(f"{qid}: removed", timeout=30)
    c.wait_empty()
    r = subprocess.run(["pflogsumm", "--syslog-name=posthorn", str(c.inst.dir / "maillog")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    counts = pflogsumm_counts(r.stdout)
    # Received: what smtpd took in. Delivered: the n, a notice to
    # sender@v.test for each bounce, the two the forwarded copy reached
    # and the command at its second attempt.
    assert counts == {"received": n + m + 2, "delivered": n + m + 2 + 1, "forwarded": 1,
                      "deferred": 1, "bounced": m, "rejected": 0}, r.stdout
    assert re.search(r"^\s*1\s+deferred\s+\(1\s+deferrals?\)", r.stdout, re.M), r.stdout


# --- a system account's mbox (root only) --------------------------------------

@pytest.fixture
def system_user(shared_dir):
    if not ROOT:
        pytest.skip("needs root to create an account and to switch to it")
    made = []

    def make():
        name = f"phd{uuid.uuid4().hex[:8]}"
        home = shared_dir / "home" / name
        r = subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", name],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        made.append(name)
        return pwd.getpwnam(name)
    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)


def test_mbox_delivery_to_a_system_account(chain, system_user):
    user = system_user()
    c = chain(home_mailbox="")
    rcpt = f"{user.pw_name}@example.org"
    first = c.send([rcpt], subject="first", body="From the start\r\nline two\r\n")
    second = c.send([rcpt], subject="second")
    mbox = c.shared / "mailspool" / user.pw_name
    for qid in (first, second):
        c.inst.wait_log(f"{qid}: removed", timeout=30)
    data = mbox.read_bytes()
    st = mbox.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (user.pw_uid, 0o600)
    messages = re.split(rb"(?m)^From sender@v\.test  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n", data)
    assert messages[0] == b"" and len(messages) == 3, data
    one, two = (email.message_from_bytes(m, policy=email.policy.default) for m in messages[1:])
    assert one["Subject"] == "first" and two["Subject"] == "second"
    assert one["Return-Path"] == f"<{SENDER}>" and one["Delivered-To"] == rcpt
    assert one.get_content() == ">From the start\nline two\n\n"  # quoted, then the mbox's blank line
    assert two.get_content() == "body of second\n\n"
    log = c.inst.log()
    assert re.search(rf"{first}: to=<{rcpt}>, relay=local, .*dsn=2\.0\.0, status=sent \(delivered to mailbox\)",
                     log)
    assert not (c.shared / "mailspool" / f"{user.pw_name}.lock").exists()
