"""smtpd against hostile and unlucky clients: smuggling, huge lines, huge
recipient lists, stalls, limits, and smtpd killed at the worst moments.

Each test runs a real instance (master and smtpd, no qmgr: accepted mail
stays in spool/incoming/) on a loopback port and talks to it with raw
sockets or smtplib. Time limits in the tests' main.cf are short so that the
tests are fast; the tests wait for replies, never for time to pass, and
assert no upper bound on any duration.
"""
import os
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from instance import BUILD, Instance, free_port, pid_alive, wait_for

HOST = "mx.example.org"


@pytest.fixture
def smtpd(tmp_path):
    made = []

    def make(maxproc="-", **main):
        port = free_port()
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": HOST,
            "mydestination": "example.org",
        }
        settings.update(main)
        inst = Instance(tmp_path / f"inst{len(made)}", settings,
                        [f"127.0.0.1:{port} inet n - n - {maxproc} smtpd"])
        made.append(inst)
        inst.start()
        return inst, port
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def incoming(inst):
    d = inst.dir / "spool" / "incoming"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def queued(inst):
    return [n for n in incoming(inst) if not n.startswith(".")]


class Client:
    """A raw SMTP client: send bytes, read reply lines."""

    def __init__(self, port, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        return self.file.readline()

    def reply(self):
        """One whole (possibly multi-line) reply; returns its last line."""
        while True:
            line = self.line()
            if line[3:4] != b"-":
                return line

    def send(self, data):
        self.sock.sendall(data)

    def ask(self, data):
        self.send(data)
        return self.reply()

    def start_data(self, sender=b"a@c.example", rcpt=b"b@example.org"):
        assert self.ask(b"EHLO c.example\r\n").startswith(b"250 ")
        assert self.ask(b"MAIL FROM:<" + sender + b">\r\n").startswith(b"250 ")
        assert self.ask(b"RCPT TO:<" + rcpt + b">\r\n").startswith(b"250 ")
        assert self.ask(b"DATA\r\n").startswith(b"354 ")

    def eof(self):
        """True when the server has closed (a reset counts: unread input)."""
        try:
            return self.file.read() == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.file.close()
        self.sock.close()


def smtpd_pid(inst):
    """The pid of the smtpd that logged the latest "connect from"."""
    def find():
        for line in reversed(inst.log().splitlines()):
            if "/smtpd[" in line and ": connect from " in line:
                return int(line.split("/smtpd[", 1)[1].split("]", 1)[0])
        return None
    return wait_for(find, what="smtpd's connect line")


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


# --- SMTP smuggling (CVE-2023-51764 class) -----------------------------------

@pytest.mark.parametrize("fake_end", [b"\n.\r\n", b"\r\n.\n", b"\n.\n"])
def test_bare_lf_fake_end_is_neither_an_end_nor_a_command(smtpd, fake_end):
    inst, port = smtpd()
    c = Client(port)
    c.start_data()
    c.send(b"Subject: s\r\n\r\nline" + fake_end +
           b"MAIL FROM:<evil@x.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
           b"smuggled\r\n.\r\n")
    # One reply for the whole thing: the message up to the real end, refused.
    assert c.reply().startswith(b"550 5.5.2 Error: bare <LF> received")
    # The next reply is NOOP's: nothing after the fake end ran as a command.
    assert c.ask(b"NOOP\r\n") == b"250 2.0.0 Ok\r\n"
    assert c.ask(b"QUIT\r\n").startswith(b"221 ")
    c.close()
    assert incoming(inst) == []


def test_cr_dot_cr_is_content_stored_as_sent(smtpd):
    inst, port = smtpd()
    c = Client(port)
    c.start_data()
    body = b"line\r.\rMAIL FROM:<evil@x.example>\r\nRCPT TO:<c@example.org>\r\nend\r\n"
    reply = c.ask(b"Subject: cr\r\n\r\n" + body + b".\r\n")
    assert reply.startswith(b"250 2.0.0 Ok: queued as ")
    assert c.ask(b"NOOP\r\n") == b"250 2.0.0 Ok\r\n"  # one message, one reply
    c.close()
    files = queued(inst)
    assert files == [reply.split()[-1].decode()]
    data = (inst.dir / "spool" / "incoming" / files[0]).read_bytes()
    assert body in data
    env = inst.posthorn("queue", "show", "--envelope", files[0])
    assert env.returncode == 0, env.stderr
    assert "b@example.org" in env.stdout and "c@example.org" not in env.stdout


# --- sizes ---------------------------------------------------------------------

def test_megabyte_command_line_is_refused_and_the_session_goes_on(smtpd):
    inst, port = smtpd()
    c = Client(port)
    pid = smtpd_pid(inst)
    assert c.ask(b"A" * (1 << 20) + b"\r\n") == b"500 5.5.2 Error: command line too long\r\n"
    assert c.ask(b"EHLO c.example\r\n").startswith(b"250 ")
    # Memory stays bounded: a 32 MiB line costs the process no more than a
    # few input buffers (what is kept is line_length_limit, then dropped).
    before = vm_kib(pid, "VmHWM")
    assert c.ask(b"B" * (32 << 20) + b"\r\n") == b"500 5.5.2 Error: command line too long\r\n"
    grown = vm_kib(pid, "VmHWM") - before
    assert grown < 8 * 1024, f"smtpd grew by {grown} KiB for one long line"
    assert c.ask(b"NOOP\r\n") == b"250 2.0.0 Ok\r\n"
    c.close()


def test_ten_thousand_pipelined_recipients(smtpd):
    inst, port = smtpd(smtpd_recipient_overshoot_limit="10000")
    c = Client(port)
    assert c.ask(b"EHLO c.example\r\n").startswith(b"250 ")
    batch = b"MAIL FROM:<a@c.example>\r\n" + b"".join(
        b"RCPT TO:<u%d@example.org>\r\n" % i for i in range(10000))
    sender = threading.Thread(target=c.send, args=(batch,))
    sender.start()  # replies are read while the batch is still going out
    replies = [c.line() for _ in range(10001)]
    sender.join()
    assert replies[0] == b"250 2.1.0 Ok\r\n"
    assert replies[1:1001] == [b"250 2.1.5 Ok\r\n"] * 1000
    assert replies[1001:] == [b"452 4.5.3 Error: too many recipients\r\n"] * 9000
    # The session is still usable: the message goes to the first 1000.
    assert c.ask(b"DATA\r\n").startswith(b"354 ")
    reply = c.ask(b"Subject: many\r\n\r\nhi\r\n.\r\n")
    assert reply.startswith(b"250 2.0.0 Ok: queued as ")
    c.close()
    qid = reply.split()[-1].decode()
    r = inst.posthorn("queue", "show", "--envelope", qid)
    assert r.returncode == 0, r.stderr
    assert "u999@example.org" in r.stdout and "u1000@example.org" not in r.stdout
    assert "too many recipients" not in inst.log()  # the overshoot is not logged, as in Postfix


def test_header_line_over_header_size_limit_is_cut_and_the_message_kept(smtpd):
    inst, port = smtpd(header_size_limit="2048")
    c = Client(port)
    c.start_data()
    reply = c.ask(b"X-Long: " + b"h" * (4 << 20) + b"\r\nSubject: after\r\n\r\nbody\r\n.\r\n")
    assert reply.startswith(b"250 ")
    c.close()
    qid = reply.split()[-1].decode()
    data = (inst.dir / "spool" / "incoming" / qid).read_bytes()
    assert b"X-Long: " + b"h" * 2040 + b"\r\nSubject: after\r\n" in data
    assert len(data) < 8192


# --- time limits -----------------------------------------------------------------

def timeout_reply():
    return f"421 4.4.2 {HOST} Error: timeout exceeded\r\n".encode()


def test_client_stalling_mid_data_gets_421_and_nothing_is_queued(smtpd):
    inst, port = smtpd(smtpd_timeout="1s")
    c = Client(port)
    c.start_data()
    sent = b"Subject: stalled\r\n\r\nhalf a mess"
    c.send(sent)
    assert c.line() == timeout_reply()
    assert c.eof()
    c.close()
    inst.wait_log(f"timeout after DATA ({len(sent)} bytes) from unknown[127.0.0.1]")
    assert incoming(inst) == []


def test_command_timeout_is_a_deadline_for_the_whole_line(smtpd):
    inst, port = smtpd(smtpd_timeout="1s")
    c = Client(port)
    assert c.ask(b"EHLO c.example\r\n").startswith(b"250 ")
    # One byte at a time keeps the connection busy but never completes a
    # command: the deadline still runs out.
    c.sock.settimeout(0.3)
    got = b""
    for byte in b"NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP":
        try:
            c.send(bytes([byte]))
            got += c.sock.recv(100)
            break
        except socket.timeout:
            continue
    c.sock.settimeout(20)
    assert got.startswith(timeout_reply())
    inst.wait_log("timeout after EHLO from unknown[127.0.0.1]")
    c.close()


def test_data_timeout_bounds_the_whole_transfer(smtpd):
    inst, port = smtpd(smtpd_timeout="60s", smtpd_data_timeout="1s")
    c = Client(port)
    c.start_data()
    c.sock.settimeout(0.2)
    got = b""
    for i in range(200):  # a line every 0.2 s: each read is in time, the whole is not
        try:
            c.send(b"line %d\r\n" % i)
            got += c.sock.recv(100)
            break
        except socket.timeout:
            continue
    c.sock.settimeout(20)
    assert got.startswith(timeout_reply())
    inst.wait_log("timeout after DATA (")
    c.close()
    assert incoming(inst) == []


# --- crashes -------------------------------------------------------------------

def test_smtpd_killed_mid_data_queues_nothing(smtpd):
    inst, port = smtpd()
    c = Client(port)
    c.start_data()
    c.send(b"Subject: doomed\r\n\r\n" + b"x" * 100000 + b"\r\n")
    pid = smtpd_pid(inst)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), what="smtpd to die")
    assert c.eof()
    c.close()
    # Nothing was written: no queue file, not even a temporary one.
    assert incoming(inst) == []


def test_message_is_in_the_queue_once_250_was_read_whatever_happens_next(smtpd):
    inst, port = smtpd()
    c = Client(port)
    c.start_data()
    reply = c.ask(b"Subject: kept\r\n\r\nsurvives\r\n.\r\n")
    assert reply.startswith(b"250 2.0.0 Ok: queued as ")
    pid = smtpd_pid(inst)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), what="smtpd to die")
    c.close()
    qid = reply.split()[-1].decode()
    assert queued(inst) == [qid]
    r = inst.posthorn("queue", "show", "--body", qid)
    assert r.returncode == 0, r.stderr
    assert "survives" in r.stdout


def test_client_gone_while_its_message_is_written(smtpd):
    inst, port = smtpd(maxproc="1")
    c = Client(port)
    c.start_data()
    pid = smtpd_pid(inst)
    # The end of data and the end of the connection arrive together: the
    # store is under way when the client is gone.
    c.send(b"Subject: orphan\r\n\r\nbody\r\n.\r\n")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    files = wait_for(lambda: queued(inst), what="the queue file")
    inst.wait_log(f"{files[0]}: client=unknown[127.0.0.1]")
    inst.wait_log("disconnect from unknown[127.0.0.1]")
    r = inst.posthorn("queue", "show", "--body", files[0])
    assert r.returncode == 0 and "body" in r.stdout, r.stderr
    # The same smtpd lives on and serves the next client.
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        assert s.noop()[0] == 250
    assert pid_alive(pid) and smtpd_pid(inst) == pid
    assert [n for n in incoming(inst) if n.startswith(".")] == []
    assert "panic" not in inst.log() and "exception" not in inst.log()


def test_many_sessions_share_the_writer_threads(smtpd):
    inst, port = smtpd(maxproc="1", smtpd_commit_threads="2")
    results = []

    def one(i):
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            for j in range(5):
                results.append(s.sendmail("a@c.example", ["b@example.org"],
                                          b"Subject: %d.%d\r\n\r\nbody\r\n" % (i, j)))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{}] * 50
    assert len(queued(inst)) == 50


# --- errors and connections ---------------------------------------------------------

def test_hard_error_limit_ends_the_session(smtpd):
    inst, port = smtpd(smtpd_hard_error_limit="4", smtpd_soft_error_limit="0")
    c = Client(port)
    c.send(b"BAD1\r\nBAD2\r\nBAD3\r\nBAD4\r\nNOOP\r\n")
    lines = [c.line() for _ in range(5)]
    assert lines[:4] == [b"500 5.5.2 Error: command not recognized\r\n"] * 4
    assert lines[4] == f"421 4.7.0 {HOST} Error: too many errors\r\n".encode()
    assert c.eof()
    c.close()


def test_soft_error_limit_delays_replies(smtpd):
    inst, port = smtpd(smtpd_soft_error_limit="2", smtpd_error_sleep_time="1s")
    c = Client(port)
    assert c.ask(b"BAD1\r\n").startswith(b"500 ")
    assert c.ask(b"NOOP\r\n") == b"250 2.0.0 Ok\r\n"
    # The second error reaches the limit: from its reply on, every reply
    # waits smtpd_error_sleep_time. (A lower bound only: it cannot flake.)
    start = time.monotonic()
    assert c.ask(b"BAD2\r\n").startswith(b"500 ")
    assert c.ask(b"NOOP\r\n") == b"250 2.0.0 Ok\r\n"
    assert time.monotonic() - start >= 2.0
    # Meanwhile other sessions of the same process are not held.
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        assert s.noop()[0] == 250
    c.close()


def too_many(addr="127.0.0.1"):
    return f"421 4.7.0 {HOST} Error: too many connections from {addr}\r\n".encode()


def test_connection_count_limit_per_client(smtpd):
    # One smtpd process, so that its count is the client's count.
    inst, port = smtpd(maxproc="1", smtpd_client_connection_count_limit="2",
                       smtpd_client_event_limit_exceptions="")
    a, b = Client(port), Client(port)
    assert a.greeting.startswith(b"220 ") and b.greeting.startswith(b"220 ")
    c = Client(port)
    assert c.greeting == too_many()
    assert c.eof()
    c.close()
    inst.wait_log("warning: Connection concurrency limit exceeded: 3 from unknown[127.0.0.1] "
                  "for service 127.0.0.1:")
    assert a.ask(b"QUIT\r\n").startswith(b"221 ")
    assert a.eof()
    a.close()
    # The count goes down with the session: a new one is welcome again.
    d = Client(port)
    assert d.greeting.startswith(b"220 ")
    d.close()
    b.close()


def test_connection_limits_spare_the_exceptions(smtpd):
    inst, port = smtpd(maxproc="1", smtpd_client_connection_count_limit="1",
                       smtpd_client_connection_rate_limit="1")
    clients = [Client(port) for _ in range(3)]  # loopback is in $mynetworks
    assert all(c.greeting.startswith(b"220 ") for c in clients)
    for c in clients:
        c.close()


def test_connection_rate_limit_per_client(smtpd):
    inst, port = smtpd(maxproc="1", smtpd_client_connection_count_limit="0",
                       smtpd_client_connection_rate_limit="2",
                       smtpd_client_event_limit_exceptions="")
    for _ in range(2):
        c = Client(port)
        assert c.greeting.startswith(b"220 ")
        assert c.ask(b"QUIT\r\n").startswith(b"221 ")
        c.close()
    c = Client(port)
    assert c.greeting == too_many()
    c.close()
    inst.wait_log("warning: Connection rate limit exceeded: 3 from unknown[127.0.0.1]")
