"""smtpd under master on a loopback port, driven with smtplib and raw sockets.

There is no qmgr yet, so an accepted message stays in spool/incoming/, where
the test reads the queue file's bytes.
"""
import smtplib
import socket

import pytest

from instance import BUILD, Instance, free_port, wait_for


@pytest.fixture
def smtpd(tmp_path):
    made = []

    def make(**main):
        port = free_port()
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "example.org",
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


def test_message_is_queued_with_envelope_and_body(smtpd):
    inst, port = smtpd()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        code, caps = s.ehlo("client.example")
        assert code == 250
        assert b"PIPELINING" in caps and b"CHUNKING" in caps and b"SIZE 10240000" in caps
        refused = s.sendmail("alice@client.example", ["bob@example.org"],
                             b"Subject: test\r\n\r\nhello body\r\n.leading dot\r\n")
        assert refused == {}
        qid = s.noop()  # the session is still usable after the message
        assert qid[0] == 250
    files = wait_for(lambda: queued(inst), what="a queue file")
    assert len(files) == 1
    data = files[0].read_bytes()
    assert b"alice@client.example" in data
    assert b"bob@example.org" in data
    assert b"hello body\r\n.leading dot\r\n" in data
    assert b"Subject: test" in data
    assert b"127.0.0.1" in data and b"client.example" in data  # client and HELO in the envelope
    assert b"ESMTP" in data
    inst.wait_log("disconnect from unknown[127.0.0.1]")
    log = inst.log()
    assert "connect from unknown[127.0.0.1]" in log
    assert f"{files[0].name}: client=unknown[127.0.0.1]" in log


def test_queue_id_in_the_reply_names_the_file(smtpd):
    inst, port = smtpd()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("c.example")
        s.mail("a@c.example")
        s.rcpt("b@example.org")
        code, text = s.data(b"Subject: x\r\n\r\nbody\r\n")
    assert code == 250
    qid = text.decode().rsplit(" ", 1)[1]
    assert [p.name for p in queued(inst)] == [qid]


def test_relay_denied_from_outside_mynetworks(smtpd):
    inst, port = smtpd(mynetworks="192.0.2.0/24")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("c.example")
        assert s.mail("a@c.example")[0] == 250
        code, text = s.rcpt("victim@far.example")
        # Postfix's default smtpd_relay_restrictions end in defer_unauth_destination.
        assert code == 454 and b"4.7.1" in text and b"Relay access denied" in text
        assert s.rcpt("bob@example.org")[0] == 250
    assert queued(inst) == []
    inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 454 4.7.1 <victim@far.example>: "
                  "Relay access denied; from=<a@c.example> to=<victim@far.example> proto=ESMTP "
                  "helo=<c.example>")


def test_pipelined_session(smtpd):
    inst, port = smtpd()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rb")
        assert f.readline().startswith(b"220 ")
        sock.sendall(b"EHLO c.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        sock.sendall(b"MAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\n"
                     b"RCPT TO:<x@far.example>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n")
        replies = [f.readline() for _ in range(5)]
        assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"250", b"354"]
        sock.sendall(b"Subject: p\r\n\r\nline\n.\r\nstill content\r\n.\r\n")
        assert f.readline().startswith(b"550 5.5.2")  # bare LF: the whole message refused
        sock.sendall(b"MAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\n"
                     b"BDAT 12 LAST\r\nSubject: q\r\nQUIT\r\n")
        replies = [f.readline() for _ in range(4)]
        assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"221"]
        assert replies[2].startswith(b"250 2.0.0 Ok: queued as ")
    files = wait_for(lambda: queued(inst), what="a queue file")
    assert len(files) == 1
    data = files[0].read_bytes()
    assert b"Subject: q\r\n" in data and b"still content" not in data


def test_size_declared_over_the_limit_is_refused(smtpd):
    inst, port = smtpd(message_size_limit="1000")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("c.example")
        code, text = s.mail("a@c.example", ["SIZE=5000"])
        assert code == 552 and b"5.3.4" in text


def test_content_over_the_limit_is_refused_and_not_queued(smtpd):
    inst, port = smtpd(message_size_limit="1000")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("c.example")
        s.mail("a@c.example")
        s.rcpt("b@example.org")
        code, text = s.data(b"Subject: big\r\n\r\n" + b"x" * 2000 + b"\r\n")
        assert code == 552 and b"5.3.4" in text
    assert queued(inst) == []


def test_errors_end_the_session_with_421(smtpd):
    inst, port = smtpd(smtpd_hard_error_limit="3")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(b"A" * 5000 + b"\r\nBOGUS\r\nRCPT TO:<b@example.org>\r\nNOOP\r\n")
        lines = f.readlines()  # until smtpd closes the connection
    assert [line[:9] for line in lines] == [b"500 5.5.2", b"500 5.5.2", b"503 5.5.1", b"421 4.7.0"]
