"""Delivery status notifications as a mail reader sees them.

Mail goes into a real instance through smtpd with smtplib, DSN parameters
and all (RET, ENVID, NOTIFY, ORCPT, SMTPUTF8); the instance runs smtpd only,
so each accepted message stays in spool/incoming/. The test program
t/progs/bounce_compose then composes the notice for that queue file with
lib/bounce, as qmgr does, and Python's email package - an independent MIME
parser - reads the notice back, field by field.
"""
import email
import email.policy
import email.utils
import smtplib
import subprocess

import pytest

from instance import BUILD, Instance, free_port, wait_for

COMPOSE = BUILD / "t" / "progs" / "bounce_compose"
HOST = "mx.example.org"
REJECTED = ("host mx.example.net[192.0.2.25] said: 550 5.1.1 <bob@example.org>: "
            "Recipient address rejected: User unknown in local recipient table "
            "(in reply to RCPT TO command)")


@pytest.fixture
def mta(tmp_path):
    """An instance with smtpd on a loopback port; yields (instance, port)."""
    made = []

    def make(**main):
        port = free_port()
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": HOST,
            "mydestination": "example.org, b\u00fccher.example",
        }
        settings.update(main)
        inst = Instance(tmp_path / f"inst{len(made)}", settings,
                        [f"127.0.0.1:{port} inet n - n - - smtpd"])
        made.append(inst)
        inst.start()
        return inst, port
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def queued(inst):
    d = inst.dir / "spool" / "incoming"
    return sorted(p for p in d.iterdir() if p.is_file()) if d.exists() else []


def send(inst, port, sender, rcpts, message, mail_options=(), rcpt_options=()):
    """Sends one message; returns the path of its new queue file."""
    before = set(queued(inst))
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("client.example")
        refused = s.sendmail(sender, rcpts, message, list(mail_options), list(rcpt_options))
        assert refused == {}
    new = wait_for(lambda: sorted(set(queued(inst)) - before), what="a new queue file")
    assert len(new) == 1
    return new[0]


def compose(inst, qfile, tmp_path, *args):
    """Runs bounce_compose; returns (CompletedProcess, message or None, envelope dict)."""
    env_file = tmp_path / "envelope"
    env_file.unlink(missing_ok=True)
    r = subprocess.run([str(COMPOSE), "-c", str(inst.dir), "-e", str(env_file), *map(str, args),
                        str(qfile)], capture_output=True, timeout=30)
    if r.returncode != 0:
        return r, None, {}
    envelope = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    msg = email.message_from_bytes(r.stdout, policy=email.policy.default)
    return r, msg, envelope


def report_groups(part, raw_notice=None, boundary=None):
    """The field groups of a delivery-status part: per-message, then per recipient."""
    if part.get_content_type() == "message/delivery-status":
        return list(part.get_payload())  # the email package splits it itself
    # The email package takes message/global-delivery-status (RFC 6533) for an
    # encapsulated message; cut the part out of the notice and read its groups
    # as UTF-8 header blocks.
    pieces = raw_notice.split(b"\r\n--" + boundary.encode())
    body = pieces[2].split(b"\r\n\r\n", 1)[1].decode("utf-8")
    groups = [g for g in body.split("\r\n\r\n") if g.strip()]
    return [email.message_from_string(g + "\r\n\r\n", policy=email.policy.default)
            for g in groups]


def utf8(text):
    """Header text the email package read from bytes: its 8-bit octets (RFC
    6532 UTF-8) come as surrogate escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8")


def check_common(msg, envelope, to):
    assert msg["From"].addresses[0].addr_spec == f"MAILER-DAEMON@{HOST}"
    assert utf8(msg["To"].addresses[0].addr_spec) == to
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["MIME-Version"] == "1.0"
    assert email.utils.parsedate_to_datetime(msg["Date"]) is not None
    assert msg["Message-ID"].endswith(f"@{HOST}>")
    assert msg.get_content_type() == "multipart/report"
    parts = msg.get_payload()
    assert len(parts) == 3
    assert msg.get_param("report-type") == parts[1].get_content_subtype()
    assert parts[0].get_content_type() == "text/plain"
    assert envelope["recipient"] == to
    assert envelope["notify"] == "1"  # NEVER: a notice never bounces
    assert envelope["protocol"] == "local"
    return parts


def test_failure_notice_returns_the_whole_message(mta, tmp_path):
    inst, port = mta()
    original = (b"From: Alice <alice@client.example>\r\nTo: bob@example.org\r\n"
                b"Subject: Quarterly figures\r\nMessage-ID: <q3@client.example>\r\n\r\n"
                b"The numbers are in.\r\n.leading dot kept\r\n")
    qfile = send(inst, port, "alice@client.example", ["bob@example.org"], original,
                 ["RET=FULL", "ENVID=Q3+2BFIGURES"],
                 ["NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;Bob@Example.ORG"])
    r, msg, envelope = compose(inst, qfile, tmp_path, "-s", "5.1.1", "-t", REJECTED,
                               "-m", "mx.example.net[192.0.2.25]:25", "-l", "1763809100")
    assert r.returncode == 0, r.stderr
    assert envelope["sender"] == ""
    parts = check_common(msg, envelope, "alice@client.example")
    assert f"\r\nFrom: MAILER-DAEMON@{HOST} (Mail Delivery System)\r\n".encode() in r.stdout
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg.get_param("report-type") == "delivery-status"

    text = parts[0].get_content()
    assert text.startswith(f"This is the mail system at host {HOST}.")
    assert "<bob@example.org>: host mx.example.net[192.0.2.25] said: 550 5.1.1" in text

    report = parts[1]
    assert report.get_content_type() == "message/delivery-status"
    per_message, bob = report_groups(report)
    assert per_message["Original-Envelope-Id"] == "Q3+FIGURES"  # xtext decoded
    assert per_message["Reporting-MTA"] == f"dns; {HOST}"
    assert per_message["X-Posthorn-Queue-ID"] == qfile.name
    assert per_message["X-Posthorn-Sender"] == "rfc822; alice@client.example"
    assert email.utils.parsedate_to_datetime(per_message["Arrival-Date"]) is not None
    assert bob["Original-Recipient"] == "rfc822; Bob@Example.ORG"
    assert bob["Final-Recipient"] == "rfc822; bob@example.org"
    assert bob["Action"] == "failed"
    assert bob["Status"] == "5.1.1"
    assert bob["Remote-MTA"] == "dns; mx.example.net"
    assert bob["Diagnostic-Code"] == (
        "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: "
        "User unknown in local recipient table")
    assert (email.utils.parsedate_to_datetime(bob["Last-Attempt-Date"]).timestamp()
            == 1763809100)

    returned = parts[2]
    assert returned.get_content_type() == "message/rfc822"
    inner = returned.get_payload()[0]
    assert inner["Subject"] == "Quarterly figures"
    assert inner["Message-ID"] == "<q3@client.example>"
    # Byte for byte: the queue file's content is inside the notice.
    assert original.split(b"\r\n\r\n", 1)[1] in r.stdout
    assert inner.get_payload() == "The numbers are in.\r\n.leading dot kept\r\n"


def test_ret_hdrs_returns_only_the_header(mta, tmp_path):
    inst, port = mta()
    original = b"Subject: private\r\nX-Tag: 1\r\n\r\nsecret body\r\n"
    qfile = send(inst, port, "alice@client.example", ["bob@example.org"], original,
                 ["RET=HDRS"], ["NOTIFY=FAILURE"])
    r, msg, envelope = compose(inst, qfile, tmp_path, "-s", "5.1.1", "-t", "unknown user")
    assert r.returncode == 0, r.stderr
    parts = check_common(msg, envelope, "alice@client.example")
    assert parts[2].get_content_type() == "text/rfc822-headers"
    returned = parts[2].get_content()
    assert "Subject: private" in returned and "X-Tag: 1" in returned
    assert b"secret body" not in r.stdout
    group = report_groups(parts[1])[1]
    assert group["Diagnostic-Code"] == "X-Posthorn; unknown user"
    assert "Original-Recipient" not in group


def test_large_message_returns_headers_as_postfix_does(mta, tmp_path):
    inst, port = mta(bounce_size_limit="2000")
    original = b"Subject: big\r\n\r\n" + b"0123456789" * 300 + b"\r\n"
    qfile = send(inst, port, "alice@client.example", ["bob@example.org"], original)
    r, msg, envelope = compose(inst, qfile, tmp_path, "-s", "5.2.2", "-t", "552 5.2.2 over quota")
    assert r.returncode == 0, r.stderr
    parts = check_common(msg, envelope, "alice@client.example")
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert "Subject: big" in parts[2].get_content()
    assert report_groups(parts[1])[1]["Diagnostic-Code"] == "smtp; 552 5.2.2 over quota"


def test_delay_notice(mta, tmp_path):
    inst, port = mta(delay_warning_time="4h")
    qfile = send(inst, port, "alice@client.example", ["bob@example.org", "carol@example.org"],
                 b"Subject: slow\r\n\r\nbody\r\n", rcpt_options=["NOTIFY=DELAY"])
    r, msg, envelope = compose(inst, qfile, tmp_path, "-k", "delay", "-i", "1", "-s", "4.4.1",
                               "-t", "connect to mx.example.net[192.0.2.25]:25: Connection refused",
                               "-w", "1764237600")
    assert r.returncode == 0, r.stderr
    parts = check_common(msg, envelope, "alice@client.example")
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    assert "for 4 hours" in parts[0].get_content()
    groups = report_groups(parts[1])
    assert len(groups) == 2  # only the recipient asked about
    carol = groups[1]
    assert carol["Final-Recipient"] == "rfc822; carol@example.org"
    assert carol["Action"] == "delayed"
    assert carol["Status"] == "4.4.1"
    assert email.utils.parsedate_to_datetime(carol["Will-Retry-Until"]).timestamp() == 1764237600
    assert parts[2].get_content_type() == "text/rfc822-headers"


def test_success_notice(mta, tmp_path):
    inst, port = mta()
    qfile = send(inst, port, "alice@client.example", ["bob@example.org"],
                 b"Subject: hi\r\n\r\nbody\r\n", rcpt_options=["NOTIFY=SUCCESS"])
    r, msg, envelope = compose(inst, qfile, tmp_path, "-k", "success", "-s", "2.0.0",
                               "-t", "delivered to maildir", "-m", "local")
    assert r.returncode == 0, r.stderr
    parts = check_common(msg, envelope, "alice@client.example")
    assert msg["Subject"] == "Successful Mail Delivery Report"
    bob = report_groups(parts[1])[1]
    assert bob["Action"] == "delivered"
    assert bob["Status"] == "2.0.0"
    assert "Remote-MTA" not in bob


def test_smtputf8_message_gets_global_types(mta, tmp_path):
    inst, port = mta()
    sender = "j\u00f6rg@b\u00fccher.example"
    rcpt = "\u7528\u6237@example.org"
    original = ("From: J\u00f6rg <" + sender + ">\r\nSubject: Gr\u00fc\u00dfe\r\n\r\n"
                "Sch\u00f6ne Gr\u00fc\u00dfe aus K\u00f6ln\r\n").encode()
    qfile = send(inst, port, sender, [rcpt], original, ["SMTPUTF8", "BODY=8BITMIME"])
    r, msg, envelope = compose(inst, qfile, tmp_path, "-s", "5.1.1",
                               "-t", "550 5.1.1 Benutzer unbekannt \u2013 sorry")
    assert r.returncode == 0, r.stderr
    assert envelope["smtputf8"] == "1"
    assert envelope["body_type"] == "8BITMIME"
    parts = check_common(msg, envelope, sender)
    assert msg.get_param("report-type") == "global-delivery-status"
    assert msg["Content-Transfer-Encoding"] == "8bit"
    assert parts[1].get_content_type() == "message/global-delivery-status"
    per_message, user = report_groups(parts[1], r.stdout, msg.get_param("boundary"))
    assert per_message["X-Posthorn-Sender"] == "utf-8; " + sender
    assert user["Final-Recipient"] == "utf-8; " + rcpt
    assert user["Diagnostic-Code"] == "smtp; 550 5.1.1 Benutzer unbekannt \u2013 sorry"
    assert parts[0].get_content_charset() == "utf-8"
    assert "<" + rcpt + ">" in parts[0].get_content()
    assert parts[2].get_content_type() == "message/global"
    assert original in r.stdout


def test_a_notice_is_never_bounced_and_the_postmaster_gets_it(mta, tmp_path):
    inst, port = mta(myorigin="example.org", notify_classes="2bounce")
    qfile = send(inst, port, "alice@client.example", ["bob@example.org"],
                 b"Subject: first\r\n\r\nbody\r\n")
    # The notice, written into the spool as qmgr does, is a queue file itself.
    spool = inst.dir / "spool"
    r = subprocess.run([str(COMPOSE), "-c", str(inst.dir), "-q", str(spool), "-s", "5.1.1",
                        "-t", "550 5.1.1 no such user", str(qfile)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    notice_file = spool / "incoming" / r.stdout.strip()
    assert notice_file.exists()
    # Bouncing the notice is refused: it comes from <>.
    r, msg, _ = compose(inst, notice_file, tmp_path, "-s", "5.1.1", "-t", "550 5.1.1 gone")
    assert r.returncode == 1
    assert b"invalid: no notice goes to the null sender" in r.stderr
    # The postmaster gets the whole undeliverable notice instead (2bounce).
    r, msg, envelope = compose(inst, notice_file, tmp_path, "-p", "-s", "5.1.1",
                               "-t", "550 5.1.1 gone")
    assert r.returncode == 0, r.stderr
    assert envelope["sender"] == "double-bounce@example.org"
    parts = check_common(msg, envelope, "postmaster@example.org")
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    assert parts[2].get_content_type() == "message/rfc822"
    inner = parts[2].get_payload()[0]
    assert inner["Subject"] == "Undelivered Mail Returned to Sender"
    assert inner.get_content_type() == "multipart/report"


def test_bounce_template_file(mta, tmp_path):
    inst, port = mta()
    (inst.dir / "bounce.cf").write_text(
        "failure_template = <<EOF\n"
        "Charset: utf-8\n"
        "Subject: Unzustellbar: zur\u00fcck an $myhostname\n"
        "\n"
        "Ihre Nachricht konnte nicht zugestellt werden (nach $maximal_queue_lifetime_days Tagen).\n"
        "EOF\n", encoding="utf-8")
    inst.set(bounce_template_file="bounce.cf")  # relative: from the config directory
    qfile = send(inst, port, "alice@client.example", ["bob@example.org"],
                 b"Subject: x\r\n\r\nbody\r\n")
    r, msg, envelope = compose(inst, qfile, tmp_path, "-s", "5.1.1", "-t", "550 5.1.1 unknown")
    assert r.returncode == 0, r.stderr
    parts = check_common(msg, envelope, "alice@client.example")
    assert msg["Subject"] == f"Unzustellbar: zur\u00fcck an {HOST}"
    text = parts[0].get_content()
    assert text.startswith("Ihre Nachricht konnte nicht zugestellt werden (nach 5 Tagen).")
    assert "<bob@example.org>: 550 5.1.1 unknown" in text
    # A broken template file is named with its line.
    (inst.dir / "bounce.cf").write_text("failure_template = <<EOF\nSubject: x\n")
    r, msg, _ = compose(inst, qfile, tmp_path, "-s", "5.1.1")
    assert r.returncode == 1
    assert b"bounce.cf:1: failure_template: no line \"EOF\" ends it" in r.stderr
