"""SMTP AUTH (RFC 4954) through the auth service: smtplib and swaks on the
submission ports, raw sockets for the protocol's corners, the failure delay
and limit, the auth service going away, and `posthorn auth`.

Passwords are hashed with `posthorn auth hash` into a texthash table.
"""
import base64
import os
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from instance import BUILD, wait_for
from tlsauth_helpers import MailSystem, client_context


@pytest.fixture
def mail(tmp_path):
    made = []

    def make(**kw):
        m = MailSystem(tmp_path / f"inst{len(made)}", **kw)
        made.append(m)
        return m.start()
    yield make
    left = []
    for m in made:
        left += m.teardown()
    assert not left, f"processes left behind: {left}"


def record(kind, payload):
    """A queue-file record: type letter, u32 big-endian length, payload."""
    return kind + len(payload).to_bytes(4, "big") + payload


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Raw:
    """A line-level SMTP client over TLS on the submissions (465) port."""

    def __init__(self, port):
        self.sock = client_context().wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=15))
        self.f = self.sock.makefile("rb")
        assert self.reply()[0].startswith(b"220 ")
        assert self.say("EHLO client.example")[-1].startswith(b"250 ")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            assert line, "connection closed"
            lines.append(line)
            if line[3:4] != b"-":
                return lines

    def say(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.f.close()  # the file holds a reference: the socket closes after both
        self.sock.close()


def test_login_on_submission_then_relay_is_allowed_and_recorded(mail):
    m = mail()
    with m.submit() as s:
        assert b"AUTH PLAIN LOGIN" in s.ehlo_resp
        code, text = s.mail("alice@client.example")
        assert code == 250
        code, text = s.rcpt("carol@far.example")
        # submission's smtpd_relay_restrictions = permit_sasl_authenticated, reject
        assert (code, text) == (554, b"5.7.1 <carol@far.example>: Recipient address rejected: Access denied")
        s.rset()
        assert s.login("bob", "s3cret") == (235, b"2.7.0 Authentication successful")
        assert s.sendmail("alice@client.example", ["carol@far.example"],
                          b"Subject: relayed\r\n\r\nafter AUTH\r\n") == {}
        code, text = s.docmd("AUTH", "PLAIN " + b64("\0bob\0s3cret"))
        assert (code, text) == (503, b"5.5.1 Error: already authenticated")
    data = wait_for(m.queued, what="a queue file")[0].read_bytes()
    # The protocol (P) and SASL user (U) records of lib/queue/FORMAT.md.
    assert record(b"P", b"ESMTPSA") in data and record(b"U", b"bob") in data
    assert b"carol@far.example" in data
    m.inst.wait_log("sasl_method=PLAIN, sasl_username=bob")
    m.inst.wait_log("login=bob, client=127.0.0.1, service=127.0.0.1:")


def test_relay_without_auth_is_refused_even_from_mynetworks_on_submission(mail):
    m = mail()  # 127.0.0.1 is in mynetworks, but submission permits only AUTH
    with m.submit() as s:
        s.mail("alice@client.example")
        assert s.rcpt("carol@far.example")[0] == 554
        # As in Postfix, "permit_sasl_authenticated, reject" refuses our own
        # domains too: submission is for authenticated clients only.
        assert s.rcpt("bob@example.org")[0] == 554
    # Port 25 keeps the default: mynetworks may relay.
    with smtplib.SMTP("127.0.0.1", m.mx, timeout=10) as s:
        s.mail("alice@client.example")
        assert s.rcpt("carol@far.example")[0] == 250


def test_login_mechanism_with_challenges_and_mail_auth_parameter(mail):
    m = mail()
    r = Raw(m.submissions)
    assert r.say("AUTH LOGIN") == [b"334 VXNlcm5hbWU6\r\n"]
    assert r.say(b64("bob")) == [b"334 UGFzc3dvcmQ6\r\n"]
    assert r.say(b64("s3cret")) == [b"235 2.7.0 Authentication successful\r\n"]
    assert r.say("MAIL FROM:<bob@client.example> AUTH=<>")[0].startswith(b"250 ")
    assert r.say("RCPT TO:<carol@far.example>")[0].startswith(b"250 ")
    r.close()
    m.inst.wait_log("disconnect from unknown[127.0.0.1]")


def test_plain_without_initial_response_and_an_empty_initial_response(mail):
    m = mail()
    r = Raw(m.submissions)
    assert r.say("AUTH PLAIN") == [b"334 \r\n"]
    assert r.say(b64("\0bob\0s3cret"))[0].startswith(b"235 2.7.0")
    r.close()
    r = Raw(m.submissions)
    # "=" is an initial response of zero length: malformed for PLAIN.
    assert r.say("AUTH PLAIN =")[0].startswith(b"535 5.7.8")
    r.close()


def test_malformed_base64_gets_501_5_5_2(mail):
    m = mail()
    r = Raw(m.submissions)
    assert r.say("AUTH PLAIN AGJvYgBzM2NyZXQ")[0].startswith(b"501 5.5.2")  # padding missing
    assert r.say("AUTH LOGIN") == [b"334 VXNlcm5hbWU6\r\n"]
    assert r.say("Ym9i!!==")[0].startswith(b"501 5.5.2")
    # The session goes on: commands are commands again.
    assert r.say("NOOP") == [b"250 2.0.0 Ok\r\n"]
    r.close()


def test_star_cancels_the_exchange_with_501(mail):
    m = mail()
    r = Raw(m.submissions)
    assert r.say("AUTH LOGIN") == [b"334 VXNlcm5hbWU6\r\n"]
    assert r.say(b64("bob")) == [b"334 UGFzc3dvcmQ6\r\n"]
    assert r.say("*") == [b"501 5.0.0 Authentication aborted\r\n"]
    assert r.say("AUTH FOO") == [b"504 5.5.4 Unrecognized authentication type\r\n"]
    r.close()


def test_auth_is_not_offered_before_starttls(mail):
    m = mail(mx_args="-o smtpd_sasl_auth_enable=yes")
    # submission: TLS required, so AUTH waits for it like MAIL does.
    with smtplib.SMTP("127.0.0.1", m.submission, timeout=10) as s:
        code, caps = s.ehlo("client.example")
        assert b"AUTH" not in caps and b"STARTTLS" in caps
        assert s.docmd("AUTH", "PLAIN " + b64("\0bob\0s3cret"))[0] == 530
    # port 25 with AUTH on: smtpd_tls_auth_only (default yes) keeps it for TLS.
    with smtplib.SMTP("127.0.0.1", m.mx, timeout=10) as s:
        code, caps = s.ehlo("client.example")
        assert b"AUTH" not in caps
        assert s.docmd("AUTH", "PLAIN " + b64("\0bob\0s3cret")) == \
            (538, b"5.7.11 Encryption required for requested authentication mechanism")
        s.starttls(context=client_context())
        code, caps = s.ehlo("client.example")
        assert b"AUTH PLAIN LOGIN" in caps
        assert s.login("bob", "s3cret")[0] == 235
    assert "s3cret" not in m.inst.log()


def test_plaintext_auth_when_configured(mail):
    m = mail(mx_args="-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=no")
    with smtplib.SMTP("127.0.0.1", m.mx, timeout=10) as s:
        code, caps = s.ehlo("client.example")
        assert b"AUTH PLAIN LOGIN" in caps
        assert s.login("bob", "s3cret")[0] == 235
        s.sendmail("bob@client.example", ["x@far.example"], b"Subject: p\r\n\r\np\r\n")
    assert b"ESMTPA" in wait_for(m.queued, what="a queue file")[0].read_bytes()


def test_wrong_password_is_535_after_the_delay_and_does_not_hold_others(mail):
    m = mail(main={"auth_failure_delay": "2s"})
    done = {}

    def wrong():
        with m.submit() as s:
            start = time.monotonic()
            with pytest.raises(smtplib.SMTPAuthenticationError) as e:
                s.login("bob", "wrong")
            done["wrong"] = (e.value.smtp_code, e.value.smtp_error, time.monotonic() - start,
                             time.monotonic())

    t = threading.Thread(target=wrong)
    t.start()
    m.inst.wait_log("login=bob, client=127.0.0.1")  # the failure is decided and waiting
    with m.submit() as s:
        assert s.login("bob", "s3cret")[0] == 235
        right_at = time.monotonic()
    t.join(30)
    code, text, elapsed, wrong_at = done["wrong"]
    assert (code, text) == (535, b"5.7.8 Error: authentication failed: authentication failure")
    assert elapsed >= 2.0
    assert right_at < wrong_at  # the good login did not wait behind the bad one
    m.inst.wait_log("SASL PLAIN authentication failed: authentication failure")
    m.inst.wait_log("login=bob, client=127.0.0.1, service=127.0.0.1:")
    assert "failed: wrong password" in m.inst.log()


def test_failure_limit_refuses_the_client_even_with_the_right_password(mail):
    m = mail(main={"auth_failure_limit": "2"})
    r = Raw(m.submissions)
    for _ in range(2):
        assert r.say("AUTH PLAIN " + b64("\0bob\0nope"))[0].startswith(b"535 5.7.8")
    assert r.say("AUTH PLAIN " + b64("\0bob\0s3cret"))[0].startswith(b"535 5.7.8")
    r.close()
    m.inst.wait_log("failed: too many failures from this client in the last hour")


def test_unknown_login_fails_like_a_wrong_password(mail):
    m = mail()
    r = Raw(m.submissions)
    assert r.say("AUTH PLAIN " + b64("\0nobody-here\0x")) == \
        [b"535 5.7.8 Error: authentication failed: authentication failure\r\n"]
    r.close()
    m.inst.wait_log("login=nobody-here, client=127.0.0.1")
    assert "failed: unknown login" in m.inst.log()


def test_swaks_as_a_second_client(mail):
    m = mail()
    common = ["swaks", "--server", "127.0.0.1", "--from", "bob@client.example",
              "--to", "dave@far.example", "--auth-user", "bob", "--auth-password", "s3cret",
              "--helo", "client.example", "--timeout", "20"]
    r = subprocess.run(common + ["--port", str(m.submission), "--tls", "--auth", "LOGIN"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout
    r = subprocess.run(common + ["--port", str(m.submissions), "--tls-on-connect",
                                 "--auth", "PLAIN"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(wait_for(lambda: len(m.queued()) == 2 and m.queued(), what="two messages")) == 2
    bad = subprocess.run(common[:-6] + ["--auth-user", "bob", "--auth-password", "bad",
                                        "--port", str(m.submissions), "--tls-on-connect",
                                        "--auth", "PLAIN", "--timeout", "20"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "535 5.7.8" in bad.stdout


def test_auth_service_killed_mid_check_gives_454_not_a_crash(mail):
    m = mail(main={"auth_failure_delay": "20s"})
    r = Raw(m.submissions)
    r.sock.sendall(b"AUTH PLAIN " + b64("\0bob\0wrong").encode() + b"\r\n")
    m.inst.wait_log("login=bob, client=127.0.0.1")  # auth holds the answer now
    pids = m.auth_pids()
    assert len(pids) == 1
    smtpd_pids = [p for p in m.inst.children() if p not in pids]
    os.kill(pids[0], signal.SIGKILL)
    assert r.reply() == [b"454 4.7.0 Temporary authentication failure\r\n"]
    # The same session, and smtpd, go on; master starts auth again on demand.
    assert r.say("AUTH PLAIN " + b64("\0bob\0s3cret")) == \
        [b"235 2.7.0 Authentication successful\r\n"]
    r.close()
    assert all(p in m.inst.children() for p in smtpd_pids)
    m.inst.wait_log("SASL PLAIN authentication aborted")


def test_no_auth_service_at_all_gives_454(mail):
    m = mail(auth=False)
    r = Raw(m.submissions)
    assert r.say("AUTH PLAIN " + b64("\0bob\0s3cret")) == \
        [b"454 4.7.0 Temporary authentication failure\r\n"]
    r.close()


def test_posthorn_auth_check_asks_the_running_service(mail):
    m = mail()
    exe = str(BUILD / "bin" / "posthorn")

    def check(login, password):
        return subprocess.run([exe, "-c", str(m.inst.dir), "auth", "check", login],
                              input=password + "\n", capture_output=True, text=True, timeout=30)
    ok = check("Bob", "s3cret")
    assert ok.returncode == 0 and ok.stdout == "Bob: ok\n"
    bad = check("bob", "nope")
    assert bad.returncode == 1 and bad.stdout == "bob: failed\n"
    m.inst.wait_log("service=posthorn-auth-check: failed: wrong password")


def test_starttls_pipelined_behind_auth_starts_once_auth_is_answered(mail):
    m = mail(mx_args="-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=no")
    with socket.create_connection(("127.0.0.1", m.mx), timeout=15) as raw:
        f = raw.makefile("rb")
        assert f.readline().startswith(b"220 ")
        raw.sendall(b"EHLO client.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        raw.sendall(b"AUTH PLAIN " + b64("\0bob\0s3cret").encode() + b"\r\nSTARTTLS\r\n")
        assert f.readline() == b"235 2.7.0 Authentication successful\r\n"
        assert f.readline() == b"220 2.0.0 Ready to start TLS\r\n"
        f.close()
        tls = client_context().wrap_socket(raw, server_hostname="mx.example.org")
        tf = tls.makefile("rb")
        tls.sendall(b"EHLO client.example\r\n")
        lines = []
        while not lines or not lines[-1].startswith(b"250 "):
            lines.append(tf.readline())
        assert b"250-AUTH PLAIN LOGIN\r\n" in lines  # TLS forgot the earlier AUTH
        tf.close()
        tls.close()
