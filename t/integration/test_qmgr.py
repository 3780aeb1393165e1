"""qmgr in a real instance: smtpd queues mail, qmgr schedules it, and a test
delivery agent (t/progs/test_agent, reached through transport_maps) answers
per recipient by its local part: defer-... deferred, deferonce-... deferred
once, bounce-... bounced, slow-... sent after a pause, anything else sent.

The agent appends one line per outcome to deliveries.log ("QUEUEID INDEX
ADDRESS ORIGINAL STATUS TIME") and writes every message it delivers to copies/,
so notices that qmgr sends back to the sender can be parsed with Python's
email package. qmgr is woken and flushed through its socket with the
lib/ipc framing of lib/queue/trigger.h.
"""
import email
import email.policy
import os
import pathlib
import signal
import shutil
import smtplib
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from instance import BUILD, Instance, children_of, free_port, pid_alive, wait_for

QUEUES = ("incoming", "active", "deferred", "hold")
ROOT = os.geteuid() == 0
VUID = 4242 if ROOT else os.getuid()  # virtual mailboxes' owner (local switches to it as root)
VGID = 4242 if ROOT else os.getgid()


# --- lib/ipc framing (lib/ipc/PROTOCOL.md), for lib/queue/trigger.h ----------

def _frame(kind, ident, name, attrs):
    body = bytes([kind]) + struct.pack(">Q", ident) + bytes([len(name)]) + name.encode()
    for key, value in attrs:
        value = value.encode() if isinstance(value, str) else value
        body += bytes([len(key)]) + key.encode() + struct.pack(">I", len(value)) + value
    return struct.pack(">I", len(body)) + body


def _read_frame(sock):
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    body = exact(struct.unpack(">I", exact(4))[0])
    kind, ident, nlen = body[0], struct.unpack(">Q", body[1:9])[0], body[9]
    name, pos, attrs = body[10:10 + nlen].decode(), 10 + nlen, {}
    while pos < len(body):
        alen = body[pos]
        key = body[pos + 1:pos + 1 + alen].decode()
        pos += 1 + alen
        vlen = struct.unpack(">I", body[pos:pos + 4])[0]
        attrs[key] = body[pos + 4:pos + 4 + vlen].decode()
        pos += 4 + vlen
    return kind, ident, name, attrs


def qmgr_call(inst, name, attrs=(), reply=True):
    """Sends one request (or notice) to public/qmgr; returns the reply's attributes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(inst.dir / "spool" / "public" / "qmgr"))
        s.sendall(_frame(1, 0, "hello", [("format", "1"), ("protocol", "qmgr"), ("version", "1")]))
        s.sendall(_frame(2, 1 if reply else 0, name, list(attrs)))
        kind, _, hname, _ = _read_frame(s)
        assert (kind, hname) == (1, "hello")
        if not reply:
            return None
        kind, ident, rname, rattrs = _read_frame(s)
        assert (kind, ident, rname) == (3, 1, "flushed"), (kind, rname, rattrs)
        return rattrs


def wake(inst):
    qmgr_call(inst, "wakeup", reply=False)


def flush(inst, domain="", queue_id=""):
    return int(qmgr_call(inst, "flush", [("domain", domain), ("queue_id", queue_id)])["count"])


# --- the instance --------------------------------------------------------------

class Mail:
    def __init__(self, inst, port):
        self.inst, self.port = inst, port
        self.deliveries = inst.dir / "deliveries.log"
        self.copies = inst.dir / "copies"

    def send(self, rcpts, sender="sender@example.test", subject="test", rcpt_options=(), wake_qmgr=True):
        msg = (f"From: {sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{subject.replace(' ', '.')}.{time.monotonic_ns()}@example.test>\r\n\r\n"
               f"body of {subject}\r\n").encode()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
            s.ehlo("client.example.test")
            s.mail(sender)
            for r in rcpts:
                code, text = s.rcpt(r, list(rcpt_options))
                assert code == 250, text
            code, text = s.data(msg)
            assert code == 250, text
        if wake_qmgr:  # smtpd does not wake qmgr itself yet
            wake(self.inst)
        return text.decode().rsplit(" ", 1)[1]

    def lines(self):
        try:
            text = self.deliveries.read_text()
        except FileNotFoundError:
            return []
        return [line.split(" ") for line in text.splitlines()]

    def outcomes(self, address, status="sent"):
        return [l for l in self.lines() if l[2] == address and l[4] == status]

    def queued(self):
        out = []
        for q in QUEUES:
            d = self.inst.dir / "spool" / q
            out += [f"{q}/{p.name}" for p in d.iterdir()] if d.exists() else []
        return out

    def wait_empty(self, timeout=20):
        return wait_for(lambda: not self.queued(), timeout, "an empty queue")

    def copies_to(self, address):
        """Messages the agent delivered to `address`, parsed."""
        out = []
        for qid, index, addr, _orig, status, _when in self.lines():
            if addr == address and status == "sent":
                for p in sorted(self.copies.glob(f"{qid}.{index}.*")):
                    out.append(email.message_from_bytes(p.read_bytes(), policy=email.policy.default))
        return out


@pytest.fixture
def mail(tmp_path):
    made = []

    def make(main=None, qmgr_wakeup=300, slow=2, services=()):
        port = free_port()
        d = tmp_path / f"inst{len(made)}"
        d.mkdir()
        (d / "copies").mkdir()
        (d / "transport").write_text("example.test testagent:\nother.test testagent:\n"
                                     "refused.test error:5.7.1 we do not take mail for it\n"
                                     "nowhere.test nosuch:\n")
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "mx.example.org",
            "transport_maps": f"texthash:{d / 'transport'}",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "1s",
        }
        settings.update(main or {})
        agent = BUILD / "t" / "progs" / "test_agent"
        inst = Instance(d, settings, [
            f"127.0.0.1:{port} inet n - n - - smtpd",
            f"qmgr unix n - n {qmgr_wakeup} 1 qmgr",
            f"testagent unix - n n - 10 {agent} -l {d / 'deliveries.log'} -m {d / 'copies'} -w {slow}",
            *services,
        ])
        made.append(inst)
        inst.start()
        wait_for(lambda: (d / "spool" / "public" / "qmgr").exists(), 10, "qmgr's socket")
        return Mail(inst, port)
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def qmgr_pid(inst):
    for pid in inst.children():
        try:
            argv0 = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
            if os.path.basename(argv0) == "qmgr":
                return pid
        except FileNotFoundError:
            pass
    return None


# --- the tests -------------------------------------------------------------

def test_mail_is_delivered_and_removed(mail):
    m = mail()
    qid = m.send(["a@example.test", "b@example.test"], subject="first")
    wait_for(lambda: len(m.outcomes("a@example.test")) and len(m.outcomes("b@example.test")), 10,
             "two deliveries")
    m.wait_empty()
    m.inst.wait_log(f"{qid}: removed")
    log = m.inst.log()
    assert f"{qid}: from=<sender@example.test>, size=" in log and "nrcpt=2 (queue active)" in log
    assert f"{qid}: to=<a@example.test>, relay=test_agent, delay=" in log
    assert "status=sent (test agent: delivered)" in log
    assert [l[:3] for l in m.lines()] == [[qid, "0", "a@example.test"], [qid, "1", "b@example.test"]]
    got = m.copies_to("a@example.test")
    assert len(got) == 1 and got[0]["Subject"] == "first"
    assert got[0].get_content().strip() == "body of first"
    assert not (m.inst.dir / "spool" / "defer" / qid).exists()
    assert not (m.inst.dir / "spool" / "bounce" / qid).exists()


def test_deferred_recipient_is_retried_after_the_backoff(mail):
    m = mail()
    qid = m.send(["deferonce-x@example.test", "y@example.test"])
    wait_for(lambda: m.outcomes("deferonce-x@example.test"), 20, "the retried delivery")
    m.wait_empty()
    statuses = [l[4] for l in m.lines() if l[2] == "deferonce-x@example.test"]
    assert statuses == ["deferred", "sent"]
    assert len(m.outcomes("y@example.test")) == 1  # the other recipient was not sent twice
    log = m.inst.log()
    assert f"{qid}: to=<deferonce-x@example.test>, relay=test_agent" in log
    assert "dsn=4.2.0, status=deferred (test agent: deferred on request)" in log
    assert log.count(f"{qid}: from=<sender@example.test>") == 2  # two passes through active/


def test_expired_message_returns_a_dsn_checked_field_by_field(mail):
    m = mail({"maximal_queue_lifetime": "2s"})
    qid = m.send(["defer-x@example.test", "ok@example.test"], subject="doomed")
    wait_for(lambda: m.copies_to("sender@example.test"), 30, "the non-delivery notice")
    m.wait_empty()
    log = m.inst.log()
    assert (f"{qid}: to=<defer-x@example.test>, relay=none, delay=") in log
    assert "dsn=5.4.7, status=expired, returned to sender (message expired after 2 seconds in queue " \
           "(last error: test agent: deferred on request))" in log
    (dsn,) = m.copies_to("sender@example.test")
    notice_id = [l[0] for l in m.lines() if l[2] == "sender@example.test"][0]
    assert f"{qid}: sender non-delivery notification: {notice_id}" in log
    assert dsn["To"] == "sender@example.test"
    assert dsn["From"].addresses[0].username == "MAILER-DAEMON"
    assert dsn["Auto-Submitted"] == "auto-replied"
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    parts = list(dsn.iter_parts())
    assert [p.get_content_type() for p in parts][:2] == ["text/plain", "message/delivery-status"]
    assert "defer-x@example.test" in parts[0].get_content()
    per_message, *per_rcpt = parts[1].get_payload()
    assert per_message["Reporting-MTA"] == "dns; mx.example.org"
    assert per_message["X-Posthorn-Queue-ID"] == qid
    assert per_message["Arrival-Date"]
    assert len(per_rcpt) == 1  # ok@ was delivered
    r = per_rcpt[0]
    assert r["Final-Recipient"] == "rfc822; defer-x@example.test"
    assert r["Action"] == "failed"
    assert r["Status"] == "5.4.7"
    assert "message expired after 2 seconds in queue" in r["Diagnostic-Code"]
    assert "test agent: deferred on request" in r["Diagnostic-Code"]
    returned = parts[2]
    assert returned.get_content_type() in ("message/rfc822", "text/rfc822-headers")
    assert "Subject: doomed" in returned.as_string()
    # The notice itself goes out from <> and is never answered.
    notice_sender = [l for l in m.inst.log().splitlines() if f"{notice_id}: from=<>" in l]
    assert notice_sender


def test_notify_success_returns_a_success_dsn(mail):
    m = mail()
    qid = m.send(["happy@example.test"], rcpt_options=["NOTIFY=SUCCESS"], subject="hello")
    wait_for(lambda: m.copies_to("sender@example.test"), 20, "the success notice")
    m.wait_empty()
    (dsn,) = m.copies_to("sender@example.test")
    assert dsn["Subject"] == "Successful Mail Delivery Report"
    status = list(dsn.iter_parts())[1]
    assert status.get_content_type() == "message/delivery-status"
    _per_message, r = status.get_payload()
    assert r["Final-Recipient"] == "rfc822; happy@example.test"
    assert r["Action"] == "delivered"
    assert r["Status"].startswith("2.")
    assert f"{qid}: sender delivery status notification: " in m.inst.log()


def test_bounce_returns_one_notice_for_all_failed_recipients(mail):
    m = mail()
    qid = m.send(["bounce-a@example.test", "bounce-b@example.test", "fine@example.test"], subject="mixed")
    wait_for(lambda: m.copies_to("sender@example.test"), 20, "the non-delivery notice")
    m.wait_empty()
    (dsn,) = m.copies_to("sender@example.test")
    _per_message, *rcpts = list(dsn.iter_parts())[1].get_payload()
    assert sorted(r["Final-Recipient"] for r in rcpts) == ["rfc822; bounce-a@example.test",
                                                          "rfc822; bounce-b@example.test"]
    assert all(r["Status"] == "5.1.1" and r["Action"] == "failed" for r in rcpts)
    assert f"{qid}: sender non-delivery notification:" in m.inst.log()


def test_error_transport_bounces_and_a_missing_agent_defers(mail):
    m = mail()
    qid = m.send(["x@refused.test", "y@nowhere.test"], subject="odd")
    wait_for(lambda: m.copies_to("sender@example.test"), 20, "the non-delivery notice")
    m.inst.wait_log(f"{qid}: to=<y@nowhere.test>, relay=none")
    log = m.inst.log()
    assert (f"{qid}: to=<x@refused.test>, relay=none, delay=") in log
    assert "dsn=5.7.1, status=bounced (we do not take mail for it)" in log
    assert "dsn=4.3.0, status=deferred (delivery agent not reachable)" in log
    assert "warning: connect to transport private/nosuch:" in log
    (dsn,) = m.copies_to("sender@example.test")
    _per_message, *rcpts = list(dsn.iter_parts())[1].get_payload()
    assert [r["Final-Recipient"] for r in rcpts] == ["rfc822; x@refused.test"]
    assert rcpts[0]["Status"] == "5.7.1"
    assert (m.inst.dir / "spool" / "deferred" / qid).exists()  # y@ waits for its agent


def test_kill_9_mid_delivery_loses_nothing_and_repeats_only_what_was_in_flight(mail):
    m = mail(qmgr_wakeup=1, slow=3)
    done = [m.send([f"early-{i}@example.test"], subject=f"e{i}") for i in range(3)]
    wait_for(lambda: all(m.outcomes(f"early-{i}@example.test") for i in range(3)), 10, "the early mail")
    ids = [m.send([f"slow-{i}@example.test", f"quick-{i}@example.test"], subject=f"k{i}") for i in range(4)]
    wait_for(lambda: [l for l in m.lines() if l[4] == "begin"], 10, "a delivery in flight")
    pid = wait_for(lambda: qmgr_pid(m.inst), 5, "qmgr's pid")
    os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    wait_for(lambda: not pid_alive(pid), 5, "qmgr to die")
    m.inst.wait_log(f"pid {pid} killed by signal 9")
    # master starts a new qmgr at its next wake-up; it takes active/ again.
    m.wait_empty(timeout=40)
    in_flight = {l[2] for l in m.lines() if l[4] == "begin" and float(l[5]) < killed_at}
    assert in_flight
    for who in [f"early-{i}@example.test" for i in range(3)]:
        assert len(m.outcomes(who)) == 1, f"{who} was delivered again"
    for i in range(4):
        for who in (f"slow-{i}@example.test", f"quick-{i}@example.test"):
            n = len(m.outcomes(who))
            assert n >= 1, f"{who} was never delivered"
            assert n == 1 or (n == 2 and who in in_flight), f"{who} delivered {n} times"
    for qid in ids + done:
        m.inst.wait_log(f"{qid}: removed")
    assert "left in active/ by a previous queue manager" in m.inst.log()


def agent_pids(inst):
    out = []
    for pid in inst.children():
        try:
            argv0 = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
            if os.path.basename(argv0) == "test_agent":
                out.append(pid)
        except FileNotFoundError:
            pass
    return out


def test_a_delivery_slower_than_qmgr_ipc_timeout_is_waited_for_not_repeated(mail):
    m = mail(main={"qmgr_ipc_timeout": "1s"}, slow=4)
    qid = m.send(["slow-a@example.test", "quick-b@example.test"], subject="slow")
    m.wait_empty(timeout=30)
    m.inst.wait_log(f"{qid}: removed")
    for who in ("slow-a@example.test", "quick-b@example.test"):
        assert len(m.outcomes(who)) == 1, f"{who} delivered {len(m.outcomes(who))} times"
    assert not m.outcomes("slow-a@example.test", "deferred")
    log = m.inst.log()
    assert "delivery agent" not in log
    assert "status=deferred" not in log


def test_an_agent_that_dies_mid_delivery_defers_its_job_at_once(mail):
    m = mail(main={"qmgr_ipc_timeout": "300s"}, slow=30)
    qid = m.send(["slow-a@example.test"], subject="dies")
    wait_for(lambda: [l for l in m.lines() if l[4] == "begin"], 10, "a delivery in flight")
    pids = wait_for(lambda: agent_pids(m.inst), 5, "the agent's pid")
    started = time.monotonic()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    m.inst.wait_log(f"{qid}: to=<slow-a@example.test>, relay=none")
    assert time.monotonic() - started < 10  # not a timer: the closed connection told qmgr
    log = m.inst.log()
    assert f"{qid}: transport testagent: delivery agent failed" in log
    assert "dsn=4.3.0, status=deferred (delivery agent failed)" in log


def test_corrupt_file_goes_to_corrupt_and_the_rest_flows(mail):
    m = mail()
    spool = m.inst.dir / "spool"
    bad = spool / "incoming" / "00000000001Z"  # a well-formed queue ID over junk
    bad.write_bytes(b"this is not a queue file")
    good = m.send(["a@example.test"], subject="good")
    wait_for(lambda: (spool / "corrupt" / bad.name).exists(), 10, "the file in corrupt/")
    wait_for(lambda: m.outcomes("a@example.test"), 10, "the good message")
    m.inst.wait_log(f"{good}: removed")
    assert "damaged queue file" in m.inst.log()


def test_flush_makes_deferred_mail_due_now(mail):
    m = mail({"minimal_backoff_time": "1h", "maximal_backoff_time": "2h", "queue_run_delay": "1h"})
    a = m.send(["deferonce-a@example.test"], subject="fa")
    b = m.send(["deferonce-b@other.test"], subject="fb")
    wait_for(lambda: (m.inst.dir / "spool" / "deferred" / a).exists()
             and (m.inst.dir / "spool" / "deferred" / b).exists(), 10, "both deferred")
    assert flush(m.inst, domain="nowhere.test") == 0
    assert flush(m.inst, domain="EXAMPLE.test") == 1
    wait_for(lambda: m.outcomes("deferonce-a@example.test"), 10, "the flushed one delivered")
    assert not m.outcomes("deferonce-b@other.test")
    assert flush(m.inst, queue_id=b) == 1
    wait_for(lambda: m.outcomes("deferonce-b@other.test"), 10, "the second one delivered")
    m.wait_empty()
    assert flush(m.inst) == 0


def queue_fill(inst, rcpt):
    """A message put straight into incoming/, with no wake-up for qmgr."""
    r = subprocess.run([str(BUILD / "t" / "progs" / "queue_fill"), "-c", str(inst.dir), "-q", "incoming",
                        "-r", rcpt], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[0]


def test_mail_in_incoming_without_a_wakeup_goes_at_the_next_queue_run(mail):
    m = mail({"queue_run_delay": "2s"}, qmgr_wakeup=300)
    m.send(["first@example.test"], subject="first")  # qmgr is up and has scanned once
    wait_for(lambda: m.outcomes("first@example.test"), 10, "the first delivery")
    qid = queue_fill(m.inst, "lost@example.test")
    wait_for(lambda: m.outcomes("lost@example.test"), 10, "the delivery of the unannounced file")
    m.inst.wait_log(f"{qid}: removed")


def test_flush_takes_mail_in_incoming_too(mail):
    m = mail({"queue_run_delay": "1h"}, qmgr_wakeup=300)
    m.send(["first@example.test"], subject="first")
    wait_for(lambda: m.outcomes("first@example.test"), 10, "the first delivery")
    qid = queue_fill(m.inst, "lost@example.test")
    r = m.inst.posthorn("flush")  # no deferred mail to make due; incoming/ is scanned all the same
    assert r.returncode == 0, r.stderr
    wait_for(lambda: m.outcomes("lost@example.test"), 10, "the flushed delivery")
    m.inst.wait_log(f"{qid}: removed")


def test_smtp_mail_arrives_without_waiting_for_a_timer(mail):
    # master's wake-up (300 s) and queue_run_delay (1 h) are far away: only
    # the wake-up through public/qmgr brings the message in.
    m = mail({"queue_run_delay": "1h"}, qmgr_wakeup=300)
    start = time.monotonic()
    m.send(["fast@example.test"])
    wait_for(lambda: m.outcomes("fast@example.test"), 10, "the delivery")
    assert time.monotonic() - start < 10


def test_hold_is_never_scheduled(mail):
    m = mail()
    qid = m.send(["deferonce-h@example.test"], subject="held")
    spool = m.inst.dir / "spool"
    wait_for(lambda: (spool / "deferred" / qid).exists(), 10, "the deferral")
    os.rename(spool / "deferred" / qid, spool / "hold" / qid)
    assert flush(m.inst) == 0
    # A message sent after it is deferred and retried: queue runs happened.
    later = m.send(["deferonce-l@example.test"], subject="later")
    wait_for(lambda: m.outcomes("deferonce-l@example.test"), 20, "the later message's retry")
    m.inst.wait_log(f"{later}: removed")
    assert (spool / "hold" / qid).exists()
    assert [l[4] for l in m.lines() if l[0] == qid] == ["deferred"]


@pytest.fixture
def mail_store():
    """A directory every uid can reach (tmp_path is root's alone), for Maildirs."""
    d = tempfile.mkdtemp(prefix="posthorn-qmgr-")
    os.chmod(d, 0o755)
    base = os.path.join(d, "vmail")
    os.mkdir(base)
    os.chown(base, VUID, VGID)
    yield pathlib.Path(base)
    shutil.rmtree(d, ignore_errors=True)


def maildir_messages(box):
    new = box / "new"
    return sorted(new.iterdir()) if new.exists() else []


def test_end_to_end_smtp_to_virtual_maildir_with_an_alias(mail, mail_store):
    # smtpd reads the tables too (unknown recipients are refused), as the
    # mail owner: they live where every uid can reach them.
    tables = mail_store.parent / "tables"
    tables.mkdir()
    tables.chmod(0o755)
    (tables / "vmailbox").write_text("bob@v.test v.test/bob/\ncarol@v.test v.test/carol/\n")
    (tables / "valias").write_text("team@v.test bob@v.test, carol@v.test\n")
    m = mail({
        "virtual_mailbox_domains": "v.test",
        "virtual_mailbox_base": str(mail_store),
        "virtual_mailbox_maps": f"texthash:{tables / 'vmailbox'}",
        "virtual_alias_maps": f"texthash:{tables / 'valias'}",
        "virtual_uid_maps": f"static:{VUID}",
        "virtual_gid_maps": f"static:{VGID}",
    }, services=["virtual unix - n n - - local"])
    direct = m.send(["bob@v.test"], subject="direct")
    team = m.send(["team@v.test"], subject="to the team")
    bob, carol = mail_store / "v.test" / "bob", mail_store / "v.test" / "carol"
    wait_for(lambda: len(maildir_messages(bob)) == 2 and len(maildir_messages(carol)) == 1, 20,
             "three Maildir deliveries")
    m.wait_empty()
    for qid in (direct, team):
        m.inst.wait_log(f"{qid}: removed")
    got = {p.read_bytes().split(b"Subject: ")[1].split(b"\n")[0]: p.read_bytes() for p in maildir_messages(bob)}
    assert set(got) == {b"direct", b"to the team"}
    assert got[b"to the team"].startswith(b"Return-Path: <sender@example.test>\nX-Original-To: team@v.test\n"
                                          b"Delivered-To: bob@v.test\n")
    assert b"\n\nbody of to the team\n" in got[b"to the team"]
    (cmsg,) = maildir_messages(carol)
    assert b"Delivered-To: carol@v.test\n" in cmsg.read_bytes()
    if ROOT:
        assert cmsg.stat().st_uid == VUID
    log = m.inst.log()
    assert f"{team}: to=<bob@v.test>, orig_to=<team@v.test>, relay=virtual" in log
    assert f"{team}: to=<carol@v.test>, orig_to=<team@v.test>, relay=virtual" in log
    assert f"{direct}: to=<bob@v.test>, relay=virtual" in log
