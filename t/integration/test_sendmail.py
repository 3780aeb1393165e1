"""sendmail, postdrop, mailq and newaliases as programs and users run them.

Each test runs a real instance with pickup (submission.py) and the build's
sendmail. Tests of what the queue file holds run pickup alone: a message has
arrived when cleanup's queue file is in incoming/, read back with
t/progs/qfdump. Tests of what a user sees run a delivery instance (qmgr and
local too) and read the recipients' Maildirs. Run as root (CI), postdrop is
set-gid to the maildrop group as installed, and the unprivileged tests run
as accounts they create.
"""
import os
import pathlib
import pwd
import shutil
import smtplib
import socket
import stat
import subprocess
import tempfile

import pytest

from instance import BUILD, wait_for
from submission import (PICKUP, QMGR, MailStore, as_user, delivery_instance, dump, ensure_user,
                        header_block, is_root, queue_files, sendmail, spool_empty,
                        split_delivered, submission_instance, wait_maildrop_empty, wait_queued)

EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_NOPERM, EX_CONFIG = 64, 65, 69, 77, 78


@pytest.fixture
def instances():
    made = []

    def make(directory, main=None, start=True, services=(PICKUP,)):
        inst = submission_instance(directory, main, services)
        made.append(inst)
        if start:
            inst.start()
        return inst
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def inst(instances, tmp_path):
    return instances(tmp_path / "inst")


@pytest.fixture
def delivering(tmp_path):
    """A started delivery instance (submission.py) with its MailStore as
    .store; the instance is stopped before the store goes."""
    store = MailStore()
    inst = delivery_instance(tmp_path / "deliver", store)
    inst.store = store
    try:
        inst.start()
        wait_for(lambda: (inst.dir / "spool" / "public" / "qmgr").exists(), what="qmgr's socket")
        yield inst
    finally:
        left = inst.teardown()
        store.cleanup()
    assert not left, f"processes left behind: {left}"


def me():
    return pwd.getpwuid(os.getuid()).pw_name


def only_message(inst):
    files = wait_queued(inst)
    assert len(files) == 1
    return dump(files[0])


def test_t_takes_recipients_from_the_header_and_drops_bcc(delivering):
    inst, store = delivering, delivering.store
    msg = (b"To: Bob <bob@example.org>\nCc: carol\nBcc: dave@example.net\n"
           b"Subject: -t test\n\nfirst line\n.\nafter a lone dot\n")
    r = sendmail(inst, "-t", "-i", input=msg)
    assert r.returncode == 0, r.stderr
    user, uid = me(), os.getuid()
    for rcpt in ("bob@example.org", "carol@example.org", "dave@example.net"):
        (delivered,) = store.wait(rcpt)
        head, body = split_delivered(delivered)
        added = f"Return-Path: <{user}@example.org>\nX-Original-To: {rcpt}\nDelivered-To: {rcpt}\n"
        assert head.startswith(added), head
        head = head[len(added):]  # the message as submitted, with cleanup's additions
        assert "Bcc" not in head and "dave" not in head  # dave got it, but blind
        assert "\nTo: Bob <bob@example.org>\n" in head and "\nCc: carol\n" in head
        assert head.startswith(f"Received: by host.example.org (Posthorn, from userid {uid});")
        assert "\nDate: " in head and "\nMessage-ID: <" in head
        assert f"\nFrom: {user} <{user}@example.org>" in head  # the account's GECOS name
        assert body == b"first line\n.\nafter a lone dot\n"
    assert store.messages("alice@example.org") == []
    wait_for(lambda: spool_empty(inst), what="the queue to empty")
    inst.wait_log(f"uid={uid} from=<{user}@example.org>")
    inst.wait_log("to=<dave@example.net>, relay=virtual")


def test_f_sets_the_envelope_sender_and_F_the_full_name(delivering):
    inst, store = delivering, delivering.store
    r = sendmail(inst, "-f", "bounces@lists.example.org", "-F", "List Robot", "bob@example.org",
                 input=b"Subject: from a list\n\nbody\n")
    assert r.returncode == 0, r.stderr
    (delivered,) = store.wait("bob@example.org")
    head, body = split_delivered(delivered)
    assert head.startswith("Return-Path: <bounces@lists.example.org>\n"), head
    assert "\nFrom: List Robot <bounces@lists.example.org>\n" in head
    assert body == b"body\n"
    r = sendmail(inst, "-r", "other@lists.example.org", "carol@example.org",
                 input=b"Subject: -r\n\nbody\n")
    assert r.returncode == 0, r.stderr
    (delivered,) = store.wait("carol@example.org")
    assert delivered.startswith(b"Return-Path: <other@lists.example.org>\n")


def test_a_lone_dot_ends_the_message_without_i(inst):
    r = sendmail(inst, "bob@example.org", input=b"Subject: dot\n\nkept\n.\nnot kept\n")
    assert r.returncode == 0, r.stderr
    _, message = only_message(inst)
    assert message.endswith(b"\r\n\r\nkept\r\n")
    assert b"not kept" not in message


def test_dsn_and_body_options_reach_the_queue_file(inst):
    r = sendmail(inst, "-N", "success,failure", "-R", "hdrs", "-V", "ENVID-42", "-B", "8BITMIME",
                 "-oem", "-odb", "bob@example.org", input="Subject: 8bit\n\ncafé\n".encode())
    assert r.returncode == 0, r.stderr
    fields, _ = only_message(inst)
    assert fields["envid"] == "ENVID-42"
    assert fields["ret"] == "2" and fields["body_type"] == "2"
    inst.wait_log("option -oem ignored")
    assert "option -odb ignored" in inst.log()


def test_mail_waits_in_maildrop_while_the_system_is_stopped(delivering):
    inst, store = delivering, delivering.store
    assert inst.stop().returncode == 0
    r = sendmail(inst, "bob@example.org", input=b"Subject: while stopped\n\nbody\n")
    assert r.returncode == 0, r.stderr
    dropped = queue_files(inst, "maildrop")
    assert len(dropped) == 1
    assert queue_files(inst, "incoming") == []
    assert store.messages("bob@example.org") == []
    inst.start()
    (delivered,) = store.wait("bob@example.org")
    head, body = split_delivered(delivered)
    assert "\nSubject: while stopped\n" in head and body == b"body\n"
    wait_for(lambda: spool_empty(inst), what="the queue to empty")


def test_usage_and_data_errors_have_sysexits_codes(inst, tmp_path):
    r = sendmail(inst, "-k", "bob@example.org")
    assert r.returncode == EX_USAGE
    assert b"sendmail: unknown option -k" in r.stderr
    r = sendmail(inst, input=b"Subject: x\n\nbody\n")
    assert r.returncode == EX_USAGE
    assert b"no recipient addresses" in r.stderr
    r = sendmail(inst, "bob@@example.org", input=b"x\n")
    assert r.returncode == EX_USAGE
    assert b"bad recipient address" in r.stderr
    r = sendmail(inst, "-f", "a b c", "bob@example.org", input=b"x\n")
    assert r.returncode == EX_USAGE
    r = sendmail(inst, "-t", input=b"Subject: nobody\n\nbody\n")
    assert r.returncode == EX_DATAERR
    assert b"no recipient addresses found in the message header" in r.stderr
    r = sendmail(inst, "-t", input=b"To: a@@b\n\nbody\n")
    assert r.returncode == EX_DATAERR
    r = sendmail(inst, "-C", tmp_path / "nowhere", "bob@example.org", input=b"x\n")
    assert r.returncode == EX_CONFIG
    assert queue_files(inst, "maildrop") == [] and queue_files(inst, "incoming") == []


def test_a_message_over_the_size_limit_is_refused(instances, tmp_path):
    inst = instances(tmp_path / "small", {"message_size_limit": "2000"})
    r = sendmail(inst, "bob@example.org", input=b"Subject: big\n\n" + b"x" * 5000 + b"\n")
    assert r.returncode == EX_DATAERR
    assert b"message too big" in r.stderr
    r = sendmail(inst, "bob@example.org", input=b"Subject: small\n\nok\n")
    assert r.returncode == 0
    wait_queued(inst)


def test_a_missing_postdrop_is_reported(instances, tmp_path):
    inst = instances(tmp_path / "nopd", {"command_directory": str(tmp_path / "empty")}, start=False)
    r = sendmail(inst, "bob@example.org", input=b"x\n")
    assert r.returncode == EX_UNAVAILABLE
    assert b"cannot run" in r.stderr and b"postdrop" in r.stderr


def test_mail_config_selects_the_instance(inst):
    r = sendmail(inst, "bob@example.org", input=b"Subject: env\n\nbody\n", via_env=True)
    assert r.returncode == 0, r.stderr
    only_message(inst)


class StdioSMTP(smtplib.SMTP):
    """smtplib over one end of a socketpair whose other end is sendmail -bs's
    standard input and output."""

    def __init__(self, sock):
        self._pair = sock
        super().__init__()
        self.connect()

    def connect(self, host="localhost", port=0, source_address=None):
        self.sock = self._pair
        self.file = None
        code, msg = self.getreply()
        return code, msg


def test_bs_runs_an_smtp_session_on_stdin_and_stdout(inst):
    ours, theirs = socket.socketpair()
    env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
    proc = subprocess.Popen([str(BUILD / "bin" / "sendmail"), "-C", str(inst.dir), "-bs"],
                            stdin=theirs, stdout=theirs, env=env)
    theirs.close()
    try:
        s = StdioSMTP(ours)
        code, caps = s.ehlo("client.example")
        assert code == 250 and b"PIPELINING" in caps and b"8BITMIME" in caps
        refused = s.sendmail("alice@example.org", ["bob@example.org", "carol@elsewhere.example"],
                             b"Subject: over -bs\r\n\r\nhello\r\n.leading dot\r\n")
        assert refused == {}  # the local user may send anywhere: no relay control
        code, text = s.noop()
        assert code == 250
        s.mail("alice@example.org")
        s.rcpt("dave@example.org")
        code, text = s.data(b"Subject: second\r\n\r\nbody\r\n")
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as ")
        s.quit()
        assert proc.wait(timeout=30) == 0
    finally:
        ours.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    files = wait_queued(inst, 2)
    messages = [dump(f) for f in files]
    by_subject = {b"over -bs" in m: (f, m) for f, m in messages}
    fields, message = by_subject[True]
    assert fields["sender"] == "alice@example.org"
    assert sorted(fields["recipient"]) == ["bob@example.org", "carol@elsewhere.example"]
    assert message.endswith(b"\r\n\r\nhello\r\n.leading dot\r\n")  # stuffed, then unstuffed


def test_bs_ends_at_end_of_input(inst):
    r = sendmail(inst, "-bs", input=b"EHLO x\r\nNOOP\r\n")
    assert r.returncode == 0
    lines = r.stdout.decode().split("\r\n")
    assert lines[0].startswith("220 ")
    assert any(l.startswith("250 ") and "2.0.0" in l for l in lines)


def test_newaliases_builds_alias_database(instances, tmp_path):
    aliases = tmp_path / "aliases"
    aliases.write_text("postmaster: root\nsupport: alice, bob\n")
    inst = instances(tmp_path / "al", {"alias_database": f"lmdb:{aliases}"}, start=False)
    r = sendmail(inst, name="newaliases")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "aliases.lmdb").exists()
    q = subprocess.run([str(BUILD / "bin" / "posthorn"), "-c", str(inst.dir), "map", "query",
                        f"lmdb:{aliases}", "support"], capture_output=True, text=True, timeout=30)
    assert q.returncode == 0 and "alice" in q.stdout
    aliases.write_text("postmaster: root\nsales: carol\n")
    r = sendmail(inst, "-bi")
    assert r.returncode == 0, r.stderr
    q = subprocess.run([str(BUILD / "bin" / "posthorn"), "-c", str(inst.dir), "map", "query",
                        f"lmdb:{aliases}", "sales"], capture_output=True, text=True, timeout=30)
    assert q.returncode == 0 and "carol" in q.stdout


def test_mailq_lists_the_queue(inst):
    assert inst.stop().returncode == 0
    assert sendmail(inst, "bob@example.org", input=b"Subject: q\n\nbody\n").returncode == 0
    inst.start()
    fields, _ = only_message(inst)
    for out in (sendmail(inst, name="mailq"), sendmail(inst, "-bp")):
        assert out.returncode == 0, out.stderr
        assert fields["id"].encode() in out.stdout
        assert b"bob@example.org" in out.stdout


def test_mailq_shows_a_deferred_message_with_its_reason(delivering):
    """bob's copy is delivered; the other recipient's domain goes to
    default_transport (smtp), which this instance does not run."""
    inst, store = delivering, delivering.store
    r = sendmail(inst, "bob@example.org", "someone@remote.example",
                 input=b"Subject: half deferred\n\nbody\n")
    assert r.returncode == 0, r.stderr
    store.wait("bob@example.org")
    (deferred,) = wait_queued(inst, queue="deferred", timeout=20)
    qid = deferred.name
    inst.wait_log(f"{qid}: to=<someone@remote.example>, relay=none")
    for out in (sendmail(inst, "-bp"), sendmail(inst, name="mailq")):
        assert out.returncode == 0, out.stderr
        text = out.stdout.decode()
        lines = text.splitlines()
        assert lines[0].startswith("-Queue ID-")
        assert lines[1].split()[0] == qid  # no mark: neither active (*) nor held (!)
        assert lines[1].split()[-1] == f"{me()}@example.org"
        assert lines[2].strip() == "(delivery agent not reachable)"
        assert lines[3].strip() == "someone@remote.example"
        assert "bob@example.org" not in text  # delivered: no longer listed
        assert text.endswith(" in 1 Request.\n")


def test_q_asks_qmgr_to_flush(inst, instances, tmp_path):
    r = sendmail(inst, "-q")  # this instance runs no qmgr: a clear error, not a hang
    assert r.returncode == EX_UNAVAILABLE
    assert b"is the mail system running?" in r.stderr
    assert sendmail(inst, "-q30m").returncode == 0  # periodic runs are qmgr's own
    with_qmgr = instances(tmp_path / "qmgr", services=(PICKUP, QMGR))
    r = wait_for(lambda: (lambda p: p if p.returncode == 0 else None)(sendmail(with_qmgr, "-q")),
                 what="qmgr to answer a flush")
    assert r.returncode == 0


def test_q_delivers_deferred_mail_at_once(delivering):
    """A mailbox that cannot be written defers; once it can, sendmail -q
    delivers without waiting out the back-off (minutes by default)."""
    inst, store = delivering, delivering.store
    os.chmod(store.base, 0)
    try:
        r = sendmail(inst, "bob@example.org", input=b"Subject: retried\n\nbody\n")
        assert r.returncode == 0, r.stderr
        (deferred,) = wait_queued(inst, queue="deferred", timeout=20)
        inst.wait_log(f"{deferred.name}: to=<bob@example.org>, relay=virtual")
        assert "status=deferred" in inst.log()
    finally:
        os.chmod(store.base, 0o755)
    r = sendmail(inst, "-q")
    assert r.returncode == 0, r.stderr
    (delivered,) = store.wait("bob@example.org")
    assert b"\nSubject: retried\n" in delivered
    wait_for(lambda: spool_empty(inst), what="the queue to empty")


@pytest.fixture
def shared_instance(instances):
    """An instance in a folder other users can reach (tmp_path's parents are
    root's alone): root-owned, 0755, below /tmp."""
    if not is_root():
        pytest.skip("needs root to create users and a set-gid postdrop")
    top = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-submit-"))
    os.chmod(top, 0o755)
    inst = instances(top / "inst")
    os.chmod(inst.dir, 0o755)
    yield inst
    left = inst.teardown()
    shutil.rmtree(top, ignore_errors=True)
    assert not left, f"processes left behind: {left}"


def test_an_unprivileged_user_submits_but_cannot_read_the_queue(shared_instance):
    inst = shared_instance
    alice_uid = ensure_user("phsubmit1")
    ensure_user("phsubmit2")
    r = sendmail(inst, "bob@example.org", input=b"Subject: from alice\n\nhi\n",
                 **as_user("phsubmit1"))
    assert r.returncode == 0, r.stderr
    fields, message = only_message(inst)
    assert fields["sender"] == "phsubmit1@example.org"
    assert f"(Posthorn, from userid {alice_uid});".encode() in message
    assert b"From: phsubmit1 tester <phsubmit1@example.org>" in message
    inst.wait_log(f"uid={alice_uid} from=<phsubmit1@example.org>")
    wait_maildrop_empty(inst)

    # Stopped: alice's next message waits in maildrop/, hers, unreadable to all.
    assert inst.stop().returncode == 0
    r = sendmail(inst, "bob@example.org", input=b"Subject: secret\n\nfor bob\n",
                 **as_user("phsubmit1"))
    assert r.returncode == 0, r.stderr
    dropped = queue_files(inst, "maildrop")
    assert len(dropped) == 1
    st = dropped[0].stat()
    assert st.st_uid == alice_uid and stat.S_IMODE(st.st_mode) == 0o444
    spool = inst.dir / "spool"
    probe = (
        "import os, sys\n"
        "errors = []\n"
        "for op, path in [('list', sys.argv[1]), ('read', sys.argv[2]), ('list', sys.argv[3]),\n"
        "                 ('list', sys.argv[4]), ('read', sys.argv[5])]:\n"
        "    try:\n"
        "        os.listdir(path) if op == 'list' else open(path, 'rb').read()\n"
        "        errors.append(op + ' ' + path + ' worked')\n"
        "    except PermissionError:\n"
        "        pass\n"
        "print('; '.join(errors) or 'all refused')\n")
    incoming_file = queue_files(inst, "incoming")[0]
    for user in ("phsubmit1", "phsubmit2"):
        out = subprocess.run(["/usr/bin/python3", "-c", probe, str(spool / "maildrop"),
                              str(dropped[0]), str(spool / "incoming"), str(spool / "corrupt"),
                              str(incoming_file)],
                             capture_output=True, text=True, timeout=30, **as_user(user))
        assert out.stdout.strip() == "all refused", (user, out.stdout, out.stderr)
    inst.start()
    wait_queued(inst, 2)


def test_an_unprivileged_users_mail_is_delivered_as_hers(tmp_path):
    if not is_root():
        pytest.skip("needs root to create users and a set-gid postdrop")
    uid = ensure_user("phsubmit1")
    top = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-submit-"))
    os.chmod(top, 0o755)
    store = MailStore()
    inst = delivery_instance(top / "inst", store)
    os.chmod(inst.dir, 0o755)
    try:
        inst.start()
        r = sendmail(inst, "-f", "forged@example.com", "bob@example.org",
                     input=b"Subject: from alice\n\nhi\n", **as_user("phsubmit1"))
        assert r.returncode == 0, r.stderr
        (delivered,) = store.wait("bob@example.org")
        head, body = split_delivered(delivered)
        # -f is the user's to choose, as in Postfix; the Received line and
        # the log still name her uid.
        assert head.startswith("Return-Path: <forged@example.com>\n"), head
        assert f"\nReceived: by host.example.org (Posthorn, from userid {uid});" in head
        assert body == b"hi\n"
        inst.wait_log(f"uid={uid} from=<forged@example.com>")
    finally:
        left = inst.teardown()
        store.cleanup()
        shutil.rmtree(top, ignore_errors=True)
    assert not left, f"processes left behind: {left}"


def test_postdrop_refuses_a_configuration_its_user_controls(shared_instance, tmp_path):
    inst = shared_instance
    ensure_user("phsubmit1")
    evil = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-evil-"))
    try:
        shutil.copy(inst.dir / "main.cf", evil / "main.cf")
        os.chmod(evil, 0o755)
        uid = as_user("phsubmit1")["user"]
        os.chown(evil, uid, 0)
        os.chown(evil / "main.cf", uid, 0)
        r = sendmail(inst, "-C", evil, "bob@example.org", input=b"x\n", **as_user("phsubmit1"))
        assert r.returncode == EX_NOPERM
        assert b"is not trusted" in r.stderr and b"alternate_config_directories" in r.stderr
    finally:
        shutil.rmtree(evil)


def client_env(inst, tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MAIL_CONFIG", "NAME")}
    env.update(HOME=str(home), MAIL_CONFIG=str(inst.dir), TERM="dumb", LC_ALL="C.UTF-8")
    return env


def test_s_nail_submits_through_sendmail(delivering, tmp_path):
    exe = shutil.which("s-nail")
    if not exe:
        pytest.skip("s-nail is not installed (scripts/deps.sh test installs it)")
    inst, store = delivering, delivering.store
    r = subprocess.run([exe, "-n", "-#", "-S", f"mta={BUILD / 'bin' / 'sendmail'}", "-S", "sendwait",
                        "-s", "from s-nail", "bob@example.org"],
                       input=b"written by s-nail\n.\nstill the body\n", capture_output=True,
                       env=client_env(inst, tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    (delivered,) = store.wait("bob@example.org")
    head, body = split_delivered(delivered)
    assert head.startswith(f"Return-Path: <{me()}@example.org>\nX-Original-To: bob@example.org\n"
                           "Delivered-To: bob@example.org\n")
    assert "\nSubject: from s-nail\n" in head and "\nTo: bob@example.org\n" in head
    assert body == b"written by s-nail\n.\nstill the body\n"  # s-nail passes -i
    wait_for(lambda: spool_empty(inst), what="the queue to empty")


def test_mutt_submits_through_sendmail(delivering, tmp_path):
    exe = shutil.which("mutt")
    if not exe:
        pytest.skip("mutt is not installed (scripts/deps.sh test installs it)")
    inst, store = delivering, delivering.store
    body = tmp_path / "body.txt"
    body.write_text("written by mutt\n")
    sendmail_cmd = f"{BUILD / 'bin' / 'sendmail'} -C {inst.dir}"
    r = subprocess.run([exe, "-n", "-F", "/dev/null", "-e", f"set sendmail=\"{sendmail_cmd}\"",
                        "-e", "set from=alice@example.org", "-e", "set use_envelope_from=yes",
                        "-e", "set copy=no", "-s", "from mutt", "--", "bob@example.org"],
                       stdin=body.open("rb"), capture_output=True, env=client_env(inst, tmp_path),
                       timeout=60)
    assert r.returncode == 0, r.stderr
    (delivered,) = store.wait("bob@example.org")
    head, text = split_delivered(delivered)
    # use_envelope_from: mutt passes -f, seen in the Return-Path.
    assert head.startswith("Return-Path: <alice@example.org>\nX-Original-To: bob@example.org\n"
                           "Delivered-To: bob@example.org\n")
    assert "\nSubject: from mutt\n" in head and "<alice@example.org>" in head  # mutt's From:
    assert b"written by mutt\n" in text
    wait_for(lambda: spool_empty(inst), what="the queue to empty")
