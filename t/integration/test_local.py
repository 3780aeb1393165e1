"""local, the local and virtual delivery agent, driven through its socket.

A real instance runs master with the two services of the shipped master.cf
that use local (`local unix - n n - - local` and `virtual unix - n n - -
local`). qmgr is not needed: t/progs/deliver_request plays its part, writing
a queue file into active/ with lib/queue's writer and sending one
deliver::Request to private/local or private/virtual; its JSON output is the
agent's reply. The tests then look at what users and administrators see:
mailbox files byte for byte, their owners, new queue files, log lines.

Run as root (CI), local really switches identity: virtual mailboxes belong
to the numeric uid 4242, alias commands run as default_privs (nobody), and
the tests that need a system account create one and remove it afterwards.
Run as anyone else, nothing switches and those tests are skipped.
"""
import fcntl
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from instance import BUILD, Instance, wait_for

ROOT = os.geteuid() == 0
VUID = 4242 if ROOT else os.getuid()
VGID = 4242 if ROOT else os.getgid()
ME = pwd.getpwuid(os.getuid()).pw_name
DELIVER = BUILD / "t" / "progs" / "deliver_request"

MESSAGE = (b"Received: from client.test by mx.example.org\r\n"
           b"From: Sender <sender@client.test>\r\n"
           b"Subject: hello\r\n"
           b"\r\n"
           b"From the first line\r\n"
           b"caf\xc3\xa9 \x00 and a bare\rCR\r\n"
           b".\r\n"
           b"last line\r\n")
# What a mailbox stores of MESSAGE after the prepended headers (CRLF -> LF).
STORED = MESSAGE.replace(b"\r\n", b"\n")
# About 800 bytes in an mbox: two fit in 2000, three do not.
BIG = MESSAGE + b"y" * 500 + b"\r\n"


@pytest.fixture
def shared_dir():
    """A directory every uid can reach (tmp_path is root's alone): mail
    stores, homes and command output live here."""
    d = tempfile.mkdtemp(prefix="posthorn-local-")
    os.chmod(d, 0o755)
    drop = os.path.join(d, "drop")
    os.mkdir(drop)
    os.chmod(drop, 0o1777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def agent(tmp_path, shared_dir):
    """make(aliases=TEXT, vmailboxes={addr: path}, **main) -> started Instance.
    "{drop}" in the aliases stands for a directory anyone may write to."""
    made = []

    def make(aliases="", vmailboxes=None, **main):
        n = len(made)
        base = os.path.join(shared_dir, f"vmail{n}")
        os.mkdir(base)
        os.chown(base, VUID, VGID)
        spool = os.path.join(shared_dir, f"mailspool{n}")
        os.mkdir(spool)
        os.chmod(spool, 0o1777)
        d = tmp_path / f"inst{n}"
        d.mkdir()
        (d / "aliases").write_text(aliases.replace("{drop}", os.path.join(shared_dir, "drop")))
        boxes = vmailboxes or {"bob@v.test": "v.test/bob/", "carol@v.test": "v.test/carol.mbox"}
        (d / "vmailbox").write_text("".join(f"{k} {v}\n" for k, v in boxes.items()))
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "$myhostname, example.org, localhost",
            "virtual_mailbox_domains": "v.test",
            "virtual_mailbox_base": base,
            "virtual_mailbox_maps": f"texthash:{d / 'vmailbox'}",
            "virtual_uid_maps": f"static:{VUID}",
            "virtual_gid_maps": f"static:{VGID}",
            "alias_maps": f"hash:{d / 'aliases'}",
            "mail_spool_directory": spool,
            "forward_path": "",
            "deliver_lock_attempts": "2",
            "deliver_lock_delay": "1s",
        }
        settings.update(main)
        inst = Instance(d, settings, ["local unix - n n - - local",
                                      "virtual unix - n n - - local"])
        r = inst.posthorn("map", "build-aliases", f"hash:{d / 'aliases'}")
        assert r.returncode == 0, r.stderr
        inst.vmail, inst.mailspool, inst.drop = base, spool, os.path.join(shared_dir, "drop")
        made.append(inst)
        inst.start()
        wait_for(lambda: (d / "spool" / "private" / "virtual").exists(), what="the sockets")
        return inst
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def deliver(inst, *rcpts, sender="sender@client.test", message=MESSAGE, transport="local",
            queue_id=None, notify=None):
    """Sends one request; returns (queue_id, [result, ...])."""
    args = [str(DELIVER), "-q", str(inst.dir / "spool"),
            "-s", str(inst.dir / "spool" / "private" / transport),
            "-t", transport, "-f", sender]
    for r in rcpts:
        args += ["-r", r]
    if queue_id:
        args += ["-i", queue_id]
    if notify is not None:
        args += ["-N", str(notify)]
    p = subprocess.run(args, input=message, capture_output=True, timeout=90)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    return out["queue_id"], out["results"]


def show(path):
    p = subprocess.run([str(DELIVER), "-S", str(path)], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def maildir_files(path):
    new = os.path.join(path, "new")
    return sorted(os.path.join(new, f) for f in os.listdir(new)) if os.path.isdir(new) else []


def incoming(inst):
    d = inst.dir / "spool" / "incoming"
    return sorted(p for p in d.iterdir() if not p.name.startswith("."))


def headers(rcpt, orig=None, sender="sender@client.test"):
    return (f"Return-Path: <{sender}>\nX-Original-To: {orig or rcpt}\n"
            f"Delivered-To: {rcpt}\n").encode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- virtual mailboxes -------------------------------------------------------

def test_virtual_maildir_delivery_is_byte_exact(agent):
    inst = agent()
    qid, res = deliver(inst, "bob@v.test", "bob@v.test=Bob.Alias@v.test", transport="virtual")
    assert [r["status"] for r in res] == ["sent", "sent"]
    assert res[0] == {"index": 0, "status": "sent", "dsn": "2.0.0",
                      "text": "delivered to maildir", "relay": "virtual"}
    box = os.path.join(inst.vmail, "v.test", "bob")
    files = maildir_files(box)
    assert len(files) == 2
    got = sorted(read(f) for f in files)
    assert got == sorted([headers("bob@v.test") + STORED,
                          headers("bob@v.test", "Bob.Alias@v.test") + STORED])
    for f in files:
        st = os.stat(f)
        assert (st.st_uid, st.st_gid) == (VUID, VGID)
        assert st.st_mode & 0o777 == 0o600
        assert re.search(r",S=\d+,W=\d+$", f)
    for sub in ("tmp", "new", "cur"):
        assert os.stat(os.path.join(box, sub)).st_uid == VUID
    assert os.listdir(os.path.join(box, "tmp")) == []
    inst.wait_log(f"{qid}: to=<bob@v.test>, relay=virtual, delay=")
    log = inst.log()
    assert re.search(rf"posthorn/virtual\[\d+\]: {qid}: to=<bob@v\.test>, relay=virtual, "
                     r"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, "
                     r"status=sent \(delivered to maildir\)", log)
    assert f"{qid}: to=<bob@v.test>, orig_to=<Bob.Alias@v.test>, relay=virtual" in log


def test_virtual_domain_is_recognised_on_the_local_transport(agent):
    inst = agent()
    _, res = deliver(inst, "bob@v.test", transport="local")
    assert res[0]["status"] == "sent" and res[0]["relay"] == "virtual"
    assert len(maildir_files(os.path.join(inst.vmail, "v.test", "bob"))) == 1


def test_unknown_users_are_bounced_5_1_1(agent):
    inst = agent()
    qid, res = deliver(inst, "nobody@v.test", transport="virtual")
    assert res[0]["status"] == "bounced" and res[0]["dsn"] == "5.1.1"
    assert res[0]["text"] == 'unknown user: "nobody@v.test"'
    _, res = deliver(inst, f"no-such-user-{uuid.uuid4().hex[:8]}@example.org")
    assert res[0]["status"] == "bounced" and res[0]["dsn"] == "5.1.1"
    assert res[0]["text"].startswith('unknown user: "no-such-user-')
    inst.wait_log(f"{qid}: to=<nobody@v.test>, relay=virtual")
    assert 'dsn=5.1.1, status=bounced (unknown user: "nobody@v.test")' in inst.log()


def test_mbox_reader_holding_the_lock_defers_then_delivery_succeeds(agent):
    inst = agent()
    mbox = os.path.join(inst.vmail, "v.test", "carol.mbox")
    _, res = deliver(inst, "carol@v.test", transport="virtual")
    assert res[0]["status"] == "sent" and res[0]["text"] == "delivered to mailbox"
    first = read(mbox)
    assert os.stat(mbox).st_uid == VUID
    m = re.match(rb"From sender@client\.test  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n", first)
    assert m, first[:80]
    # The mbox form: From_ line, headers, ">From " quoting, an empty line after.
    assert first == m.group(0) + headers("carol@v.test") + STORED.replace(
        b"\nFrom the first", b"\n>From the first") + b"\n"

    with open(mbox, "r+b") as reader:
        fcntl.lockf(reader, fcntl.LOCK_EX)  # a mail reader's POSIX lock
        qid, res = deliver(inst, "carol@v.test", transport="virtual")
        assert res[0]["status"] == "deferred" and res[0]["dsn"] == "4.2.0"
        assert "mailbox is locked" in res[0]["text"]
        assert read(mbox) == first
        fcntl.lockf(reader, fcntl.LOCK_UN)
    _, res = deliver(inst, "carol@v.test", transport="virtual", queue_id=qid)  # the retry
    assert res[0]["status"] == "sent"
    both = read(mbox)
    assert both.startswith(first)
    assert both.count(b"\nFrom sender@client.test  ") == 1 and both.endswith(STORED[-10:] + b"\n")
    assert not os.path.exists(mbox + ".lock")
    inst.wait_log(f"{qid}: to=<carol@v.test>, relay=virtual")
    assert re.search(rf"{qid}: to=<carol@v\.test>, relay=virtual, .*dsn=4\.2\.0, "
                     r"status=deferred \(cannot update mailbox", inst.log())


def test_virtual_mailbox_limit_bounces_5_2_2(agent):
    inst = agent(virtual_mailbox_limit="2000", message_size_limit="1000")
    for expected in ("sent", "sent", "bounced"):
        _, res = deliver(inst, "carol@v.test", transport="virtual", message=BIG)
        assert res[0]["status"] == expected
    assert res[0]["dsn"] == "5.2.2" and "mailbox full" in res[0]["text"]
    assert read(os.path.join(inst.vmail, "v.test", "carol.mbox")).count(b"\nReturn-Path:") == 2


def test_forwarding_loop_is_bounced_5_4_6(agent):
    inst = agent()
    looped = b"Delivered-To: bob@v.test\r\n" + MESSAGE
    _, res = deliver(inst, "bob@v.test", message=looped, transport="virtual")
    assert res[0]["status"] == "bounced" and res[0]["dsn"] == "5.4.6"
    assert res[0]["text"] == "mail forwarding loop for bob@v.test"
    assert maildir_files(os.path.join(inst.vmail, "v.test", "bob")) == []
    # Another recipient of the same message is no loop.
    _, res = deliver(inst, "carol@v.test", message=looped, transport="virtual")
    assert res[0]["status"] == "sent"


# --- local recipients --------------------------------------------------------

def test_alias_list_and_include_produce_one_new_queue_file(agent, tmp_path):
    staff = tmp_path / "staff.list"
    staff.write_text("# the staff\ncarol@example.com\ndave, alice@example.net\n")
    inst = agent(aliases=(f"team: alice@example.net, :include:{staff}, bob@v.test\n"
                          "owner-team: admin\n"
                          "pair: x@example.net, Y@Example.NET\n"))
    qid, res = deliver(inst, "team@example.org", notify=2 | 4)
    assert res[0]["status"] == "sent", res
    m = re.fullmatch(r"forwarded as (\w+)", res[0]["text"])
    assert m, res[0]["text"]
    files = incoming(inst)
    assert [f.name for f in files] == [m.group(1)]
    new = show(files[0])
    assert new["sender"] == "owner-team@mx.example.org"  # the list owner gets the bounces
    assert [r["address"] for r in new["recipients"]] == [
        "alice@example.net", "carol@example.com", "dave@mx.example.org", "bob@v.test"]
    assert all(r["original"] == "team@example.org" for r in new["recipients"])
    assert all(r["notify"] == 0 for r in new["recipients"])  # owner: DSN fields not passed on
    assert new["headers"].encode("latin-1") == b"Delivered-To: team@example.org\r\n" + \
        MESSAGE.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert new["body"].encode("latin-1") == MESSAGE.split(b"\r\n\r\n", 1)[1]
    if ROOT:  # written for qmgr, which runs as mail_owner
        assert files[0].stat().st_uid == pwd.getpwnam("nobody").pw_uid
    inst.wait_log(f"{qid}: to=<team@example.org>, relay=local")
    assert f"status=sent (forwarded as {m.group(1)})" in inst.log()

    # Without an owner- alias the sender stays, and NOTIFY loses SUCCESS only.
    _, res = deliver(inst, "pair@example.org", notify=2 | 4)
    new = show(inst.dir / "spool" / "incoming" / res[0]["text"].split()[-1])
    assert new["sender"] == "sender@client.test"
    assert [r["address"] for r in new["recipients"]] == ["x@example.net", "Y@example.net"]
    assert [r["notify"] for r in new["recipients"]] == [4, 4]


def test_single_local_alias_delivers_directly(agent):
    inst = agent(aliases=f"info: {ME}\npostmaster: info\n")
    _, res = deliver(inst, "postmaster@example.org")
    assert res[0]["status"] == "sent" and res[0]["text"] == "delivered to mailbox"
    assert incoming(inst) == []
    mbox = os.path.join(inst.mailspool, ME)
    data = read(mbox)
    assert b"\nX-Original-To: postmaster@example.org\nDelivered-To: postmaster@example.org\n" in data
    assert os.stat(mbox).st_uid == os.getuid()


def test_alias_loops_and_restrictions(agent, tmp_path):
    lst = tmp_path / "cmds.list"
    lst.write_text("|/bin/true\n")
    inst = agent(aliases=(f"a1: a2\na2: a1\n"
                          f"viainclude: :include:{lst}\n"
                          "missing: :include:/nonexistent/list\n"))
    _, res = deliver(inst, "a1@example.org")
    assert res[0]["status"] == "bounced" and res[0]["dsn"] == "5.4.6"
    assert "alias database loop" in res[0]["text"]
    _, res = deliver(inst, "viainclude@example.org")
    assert res[0]["status"] == "bounced" and res[0]["dsn"] == "5.7.1"
    assert res[0]["text"] == "mail to command is restricted"
    _, res = deliver(inst, "missing@example.org")
    assert res[0]["status"] == "deferred" and res[0]["dsn"] == "4.3.0"


def test_command_deliveries(agent):
    inst = agent(aliases=("tempfail: |exit 75\n"
                          "catcher: \"|cat > {drop}/catcher.out; env > {drop}/catcher.env\"\n"
                          "slow: |sleep 30\n"
                          "picky: \"|echo 5.1.1 no such list member; exit 1\"\n"),
                 command_time_limit="2s")
    _, res = deliver(inst, "catcher@example.org")
    assert res[0]["status"] == "sent", res
    assert res[0]["text"].startswith("delivered to command: cat > ")
    out = read(os.path.join(inst.drop, "catcher.out"))
    assert re.match(rb"From sender@client\.test  [^\n]+\nReturn-Path: <sender@client\.test>\n"
                    rb"X-Original-To: catcher@example\.org\nDelivered-To: catcher@example\.org\n",
                    out)
    assert out.endswith(STORED)
    env = dict(line.split("=", 1) for line in
               read(os.path.join(inst.drop, "catcher.env")).decode().splitlines())
    assert env["RECIPIENT"] == "catcher@example.org"
    assert env["SENDER"] == "sender@client.test"
    assert env["ORIGINAL_RECIPIENT"] == "catcher@example.org"
    assert env["LOCAL"] == "catcher" and env["DOMAIN"] == "example.org"
    assert env["PATH"] == "/usr/bin:/bin"
    assert not any(k.startswith(("POSTHORN", "MAIL_CONFIG", "PYTEST")) for k in env)
    if ROOT:  # the alias table is root's: its commands run as default_privs
        assert os.stat(os.path.join(inst.drop, "catcher.out")).st_uid == pwd.getpwnam("nobody").pw_uid

    _, res = deliver(inst, "tempfail@example.org")
    assert res[0]["status"] == "deferred" and res[0]["dsn"] == "4.3.0"
    assert res[0]["text"] == "temporary failure"
    _, res = deliver(inst, "picky@example.org")
    assert res[0]["status"] == "bounced" and res[0]["dsn"] == "5.1.1"
    assert "Command output: 5.1.1 no such list member" in res[0]["text"]
    _, res = deliver(inst, "slow@example.org")
    assert res[0]["status"] == "deferred"
    assert res[0]["text"] == "command time limit exceeded: sleep 30"


def test_a_command_does_not_outlive_a_killed_local(agent):
    """kill -9 of local mid-delivery: the command it was waiting for (and
    whose time limit it enforced) is killed with it, not left running."""
    inst = agent(aliases="lingers: |sleep 317\n", command_time_limit="600s")
    args = [str(DELIVER), "-q", str(inst.dir / "spool"),
            "-s", str(inst.dir / "spool" / "private" / "local"),
            "-t", "local", "-f", "sender@client.test", "-r", "lingers@example.org"]
    client = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    client.stdin.write(MESSAGE)
    client.stdin.close()

    def sleeper():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read() != b"sleep\x00317\x00":
                        continue
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            return int(pid), ppid
        return None

    try:
        wait_for(lambda: sleeper() is not None, what="the command")
        pid, local_pid = sleeper()
        with open(f"/proc/{local_pid}/cmdline", "rb") as f:
            assert b"local" in f.read()
        os.kill(local_pid, 9)
        wait_for(lambda: sleeper() is None, what="the command to end with local")
    finally:
        client.kill()
        client.wait()


def test_mailbox_size_limit_bounces_5_2_2(agent):
    inst = agent(mailbox_size_limit="2000", message_size_limit="1000")
    statuses = [deliver(inst, f"{ME}@example.org", message=BIG)[1][0] for _ in range(3)]
    assert [s["status"] for s in statuses] == ["sent", "sent", "bounced"]
    assert statuses[2]["dsn"] == "5.2.2" and "mailbox full" in statuses[2]["text"]
    assert read(os.path.join(inst.mailspool, ME)).count(b"\nReturn-Path:") == 2


def test_bad_requests_defer_and_local_carries_on(agent):
    inst = agent()
    _, res = deliver(inst, "bob@v.test", queue_id="not-a-queue-id")
    assert res[0]["status"] == "deferred" and res[0]["text"] == "bad delivery request"
    _, res = deliver(inst, "bob@v.test", queue_id="1K0Y58WHVWYAESDJ")
    assert res[0]["status"] == "deferred" and res[0]["dsn"] == "4.3.0"
    assert res[0]["text"] == "cannot read queue file"
    _, res = deliver(inst, "bob@v.test", transport="virtual")
    assert res[0]["status"] == "sent"


def test_a_busy_local_takes_no_second_connection(agent):
    """Each connection from qmgr goes to a process of its own: a local that is
    delivering (here: holding a connection that has sent nothing yet) does
    not accept the next one, which would wait behind it while master could
    start another process."""
    import socket
    inst = agent()
    path = str(inst.dir / "spool" / "private" / "virtual")
    held = []
    for _ in range(3):  # all three wait in the backlog before any process runs
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        held.append(s)

    def locals_running():
        out = []
        for pid in inst.children():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "local":
                        out.append(pid)
            except OSError:
                pass
        return out
    try:
        wait_for(lambda: len(locals_running()) >= 3, what="a local process for each connection")
        # and a fourth connection, a real request, is served at once by a fourth
        _, res = deliver(inst, "bob@v.test", transport="virtual")
        assert res[0]["status"] == "sent"
        assert len(locals_running()) >= 4
    finally:
        for s in held:
            s.close()


# --- system accounts (root only) ---------------------------------------------

@pytest.fixture
def system_user(shared_dir):
    """A temporary system account with its home under shared_dir."""
    if not ROOT:
        pytest.skip("needs root to create an account and to switch to it")
    made = []

    def make(with_home=True):
        name = f"phl{uuid.uuid4().hex[:8]}"
        home = os.path.join(shared_dir, "home", name)
        os.makedirs(os.path.dirname(home), exist_ok=True)
        os.chmod(os.path.dirname(home), 0o755)
        r = subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", name],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        made.append(name)
        pw = pwd.getpwnam(name)
        if with_home:
            os.mkdir(home, 0o755)
            os.chown(home, pw.pw_uid, pw.pw_gid)
        return pw
    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)


def test_delivery_to_a_system_account_belongs_to_it(agent, system_user):
    user = system_user()
    inst = agent(home_mailbox="Maildir/")
    _, res = deliver(inst, f"{user.pw_name}@example.org")
    assert res[0]["status"] == "sent" and res[0]["text"] == "delivered to maildir"
    files = maildir_files(os.path.join(user.pw_dir, "Maildir"))
    assert len(files) == 1
    assert read(files[0]) == headers(f"{user.pw_name}@example.org") + STORED
    for p in (files[0], os.path.join(user.pw_dir, "Maildir"), os.path.join(user.pw_dir, "Maildir", "new")):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (user.pw_uid, user.pw_gid), p


def test_dot_forward_runs_as_the_user(agent, system_user, shared_dir):
    user = system_user()
    out = os.path.join(shared_dir, "drop", f"{user.pw_name}.id")
    fwd = os.path.join(user.pw_dir, ".forward")
    with open(fwd, "w") as f:  # "\\user": the user's own mailbox as well
        f.write(f"\\{user.pw_name}\n\"|id -u > {out}\"\n")
    os.chown(fwd, user.pw_uid, user.pw_gid)
    inst = agent(home_mailbox="Maildir/", forward_path="$home/.forward")
    _, res = deliver(inst, f"{user.pw_name}@example.org")
    assert res[0]["status"] == "sent", res
    assert res[0]["text"] == f"delivered to maildir; delivered to command: id -u > {out}"
    assert len(maildir_files(os.path.join(user.pw_dir, "Maildir"))) == 1
    assert read(out).strip() == str(user.pw_uid).encode()
    assert os.stat(out).st_uid == user.pw_uid


def test_missing_home_directory_defers(agent, system_user):
    user = system_user(with_home=False)
    inst = agent(home_mailbox="Maildir/")
    _, res = deliver(inst, f"{user.pw_name}@example.org")
    assert res[0]["status"] == "deferred" and res[0]["dsn"] == "4.3.0"
    assert "cannot access home directory" in res[0]["text"]
