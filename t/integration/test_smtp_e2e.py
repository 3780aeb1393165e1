"""End to end through the scheduler: smtplib -> smtpd -> qmgr -> smtp ->
a fake remote server, in one real instance, with qmgr's real back-off.

These complete test_smtp.py, whose requests t/progs/smtp_request makes:
here qmgr makes them, records each outcome in the queue file, defers with
its back-off (minimal_backoff_time 1s, maximal_backoff_time 2s,
queue_run_delay 1s), and returns bounces as DSNs, which the virtual
transport puts in the sender's own Maildir (sender@v.test), where Python's
email package reads them field by field. The remote servers (smtpfake.py)
listen on 127.0.0.x and the fake DNS server (fakedns.py) names them.
"""
import email
import email.policy
import re
import smtplib
import time
import uuid

import pytest

from fakedns import FakeDns
from instance import BUILD, Instance, free_port, wait_for
from smtpfake import FakeSmtp
from test_delivery import VGID, VUID, shared_dir  # noqa: F401 (shared_dir is a fixture)
from test_qmgr import wake

SENDER = "sender@v.test"
QUEUES = ("incoming", "active", "deferred", "hold")


class Relay:
    """A started instance that relays to remote.test's fake MX."""

    def __init__(self, inst, port, remote, rport, shared):
        self.inst, self.port, self.remote, self.rport, self.shared = inst, port, remote, rport, shared
        self.spool = inst.dir / "spool"

    def send(self, rcpts, subject="test", body="hello\r\n", rcpt_options=None):
        msg = (f"From: {SENDER}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{uuid.uuid4().hex}@client.test>\r\n\r\n{body}").encode()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as s:
            s.ehlo("client.test")
            s.mail(SENDER)
            for r in rcpts:
                code, text = s.rcpt(r, (rcpt_options or {}).get(r, []))
                assert code == 250, (r, text)
            code, text = s.data(msg)
            assert code == 250, text
        wake(self.inst)
        return text.decode().rsplit(" ", 1)[1]

    def queued(self, queues=QUEUES):
        out = []
        for q in queues:
            d = self.spool / q
            out += [p.name for p in d.rglob("*") if p.is_file()] if d.exists() else []
        return out

    def notices(self):
        new = self.shared / "vmail" / "v.test" / "sender" / "new"
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(new.iterdir())] if new.exists() else []

    def lines(self, qid):
        return [line for line in self.inst.log().splitlines() if f"{qid}: to=<" in line]


@pytest.fixture
def relay(tmp_path, shared_dir):  # noqa: F811
    """make(**server_behaviour, main={...}) -> started Relay."""
    made = []

    def make(main=None, **behaviour):
        n = len(made)
        rport = free_port()
        dns = FakeDns({"remote.test": [("MX", 10, "mx.remote.test")],
                       "mx.remote.test": [("A", "127.0.0.40")]})
        remote = FakeSmtp("127.0.0.40", rport, name="mx.remote.test", **behaviour)
        d = tmp_path / f"relay{n}"
        d.mkdir()
        t = shared_dir / f"tables{n}"
        t.mkdir()
        (t / "vmailbox").write_text("sender@v.test v.test/sender/\n")
        port = free_port()
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "$myhostname",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "virtual_mailbox_domains": "v.test",
            "virtual_mailbox_base": str(shared_dir / "vmail"),
            "virtual_mailbox_maps": f"texthash:{t / 'vmailbox'}",
            "virtual_uid_maps": f"static:{VUID}",
            "virtual_gid_maps": f"static:{VGID}",
            "dns_nameservers": dns.address,
            "smtp_tcp_port": str(rport),
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
        }
        settings.update(main or {})
        inst = Instance(d, settings, [
            f"127.0.0.1:{port} inet n - n - - smtpd",
            "qmgr unix n - n 1 1 qmgr",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "virtual unix - n n - - local",
        ])
        made.append((inst, remote, dns))
        inst.start()
        wait_for(lambda: (d / "spool" / "public" / "qmgr").exists(), 10, "qmgr's socket")
        return Relay(inst, port, remote, rport, shared_dir)
    yield make
    left = []
    for inst, remote, dns in made:
        left += inst.teardown()
        remote.stop()
        dns.stop()
    assert not left, f"processes left behind: {left}"


def dsn_parts(notice):
    """(per-message fields, [per-recipient fields], returned part) of a DSN."""
    assert notice.get_content_type() == "multipart/report"
    assert notice.get_param("report-type") == "delivery-status"
    parts = list(notice.iter_parts())
    assert [p.get_content_type() for p in parts[:2]] == ["text/plain", "message/delivery-status"]
    per_message, *per_rcpt = parts[1].get_payload()
    return per_message, per_rcpt, parts[2]


def test_4xx_then_success_after_qmgrs_backoff(relay):
    attempts = []

    def greylist(addr):
        attempts.append(time.monotonic())
        return "451 4.7.1 <%s>: greylisted, try again later" % addr if len(attempts) == 1 else "250 2.1.5 Ok"
    r = relay(rcpt_reply=greylist)
    qid = r.send(["bob@remote.test"], subject="greylisted")
    wait_for(lambda: r.remote.delivered(), 30, "the second attempt at the remote")
    wait_for(lambda: not r.queued(), 30, "an empty queue")
    assert len(attempts) == 2
    assert 1.0 <= attempts[1] - attempts[0] < 15  # minimal_backoff_time, never less
    (tx,) = r.remote.delivered()
    assert tx.rcpts == ["RCPT TO:<bob@remote.test>"]
    assert b"Subject: greylisted" in tx.data
    first, second = r.lines(qid)
    assert re.search(r"relay=mx\.remote\.test\[127\.0\.0\.40\]:\d+, .*dsn=4\.7\.1, status=deferred "
                     r"\(host mx\.remote\.test\[127\.0\.0\.40\] said: 451 4\.7\.1 <bob@remote\.test>: "
                     r"greylisted, try again later \(in reply to RCPT TO command\)\)", first)
    assert re.search(r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as FAKE1\)", second)
    assert r.notices() == []  # no bounce, no delay warning


def test_5xx_per_recipient_makes_a_dsn_with_every_field(relay):
    r = relay(rcpt_reply=lambda a: "550 5.1.1 <%s>: Recipient address rejected: no such user" % a
              if a.startswith("bad") else "250 2.1.5 Ok")
    qid = r.send(["good@remote.test", "bad@remote.test", "bad2@remote.test"], subject="some rejected",
                 rcpt_options={"bad@remote.test": ["NOTIFY=FAILURE", "ORCPT=rfc822;alias-bad@v.test"]})
    wait_for(lambda: r.notices(), 30, "the bounce in the sender's mailbox")
    wait_for(lambda: not r.queued(), 30, "an empty queue")
    (notice,) = r.notices()
    assert notice["To"] == SENDER
    assert notice["From"].addresses[0].username == "MAILER-DAEMON"
    assert notice["Subject"] == "Undelivered Mail Returned to Sender"
    assert notice["Return-Path"] == "<>"
    per_message, per_rcpt, returned = dsn_parts(notice)
    assert per_message["Reporting-MTA"] == "dns; mx.example.org"
    assert per_message["X-Posthorn-Queue-ID"] == qid
    assert per_message["X-Posthorn-Sender"] == f"rfc822; {SENDER}"
    assert per_message["Arrival-Date"]
    by = {f["Final-Recipient"]: f for f in per_rcpt}
    assert set(by) == {"rfc822; bad@remote.test", "rfc822; bad2@remote.test"}
    for who in ("bad", "bad2"):
        f = by[f"rfc822; {who}@remote.test"]
        assert f["Action"] == "failed"
        assert f["Status"] == "5.1.1"
        assert f["Last-Attempt-Date"]
        assert f["Remote-MTA"] == "dns; mx.remote.test"
        assert f["Diagnostic-Code"] == (f"smtp; 550 5.1.1 <{who}@remote.test>: Recipient address rejected: "
                                        "no such user")
    assert by["rfc822; bad@remote.test"]["Original-Recipient"] == "rfc822; alias-bad@v.test"
    assert by["rfc822; bad2@remote.test"]["Original-Recipient"] is None
    assert "Subject: some rejected" in returned.as_string()
    assert "bad@remote.test" in notice.get_body(("plain",)).get_content()
    # good@ went through, once; the log tells each recipient's fate.
    (tx,) = r.remote.delivered()
    assert tx.rcpts == ["RCPT TO:<good@remote.test>"]
    lines = r.lines(qid)
    assert any("to=<good@remote.test>" in l and "status=sent" in l for l in lines)
    assert any("to=<bad@remote.test>" in l and "dsn=5.1.1, status=bounced" in l for l in lines)


def test_5xx_at_end_of_data_bounces_every_recipient_with_a_dsn(relay):
    r = relay(end_reply="554 5.7.1 Message rejected: looks like spam")
    qid = r.send(["ann@remote.test", "ben@remote.test"], subject="spammy")
    wait_for(lambda: r.notices(), 30, "the bounce in the sender's mailbox")
    wait_for(lambda: not r.queued(), 30, "an empty queue")
    (notice,) = r.notices()
    _, per_rcpt, returned = dsn_parts(notice)
    assert sorted(f["Final-Recipient"] for f in per_rcpt) == ["rfc822; ann@remote.test", "rfc822; ben@remote.test"]
    for f in per_rcpt:
        assert (f["Action"], f["Status"]) == ("failed", "5.7.1")
        assert f["Remote-MTA"] == "dns; mx.remote.test"
        assert f["Diagnostic-Code"] == "smtp; 554 5.7.1 Message rejected: looks like spam"
    assert "Subject: spammy" in returned.as_string()
    lines = r.lines(qid)
    assert len(lines) == 2 and all("(in reply to end of DATA command)" in l for l in lines)


def test_remote_stalling_mid_data_is_deferred_then_delivered(relay):
    r = relay(main={"smtp_data_xfer_timeout": "2s", "smtp_data_done_timeout": "10s",
                    "message_size_limit": "20000000"},
              stall_in_data=True)
    body = ("y" * 998 + "\r\n") * 9000  # ~9 MB: more than the socket buffers hold
    qid = r.send(["bob@remote.test"], subject="stalled", body=body)
    start = time.monotonic()  # queued: from here qmgr and smtp take over
    r.inst.wait_log(f"{qid}: to=<bob@remote.test>", 60)
    elapsed = time.monotonic() - start
    (first,) = r.lines(qid)
    # Stalled while the body went out, or (when the socket buffers took it
    # all) while waiting for the reply to the end of data.
    assert re.search(r"dsn=4\.4\.2, status=deferred \(conversation with mx\.remote\.test\[127\.0\.0\.40\] "
                     r"timed out while sending (message body|end of data)", first)
    assert elapsed < 40  # the stage bounds, not qmgr's or the remote's patience
    assert r.queued()  # still queued, not lost
    r.remote.stall_in_data = False  # the remote gets better: the next attempt goes through
    wait_for(lambda: r.remote.delivered(), 60, "the message at the remote")
    wait_for(lambda: not r.queued(), 30, "an empty queue")
    assert len(r.remote.delivered()[0].data) > 9000 * 998
    assert r.notices() == []
