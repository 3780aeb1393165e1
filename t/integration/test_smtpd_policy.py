"""smtpd's restriction lists, client names and ETRN, through real sockets.

Each instance runs smtpd on a loopback port with mynetworks = 127.0.0.1/32,
so that a client bound to 127.0.0.2 is "outside". DNS questions (RBL, sender
domains, client names) go to the fake DNS server of fakedns.py through
dns_nameservers. ETRN is tested with qmgr and smtp delivering to a fake
remote server (smtpfake.py) that first defers the message.
"""
import getpass
import os
import pathlib
import shutil
import smtplib
import socket
import tempfile

import pytest

from fakedns import FakeDns
from instance import BUILD, Instance, free_port, wait_for
from smtpfake import FakeSmtp

ZONE = {
    "good.test": [("MX", 10, "mx.good.test")],
    "aonly.test": [("A", "192.0.2.5")],
    "2.0.0.127.rbl.test": [("A", "127.0.0.2")],
    # 127.0.0.1 is named by /etc/hosts before DNS is asked (as the C
    # library does): the DNS-named client is 127.0.0.3.
    "3.0.0.127.in-addr.arpa": [("PTR", "client.test")],
    "client.test": [("A", "127.0.0.3")],
    "2.0.0.127.in-addr.arpa": [("PTR", "liar.test")],
    "liar.test": [("A", "127.0.0.9")],
    "remote.test": [("MX", 10, "mx.remote.test")],
    "mx.remote.test": [("A", "127.0.0.40")],
}


@pytest.fixture
def dns():
    d = FakeDns(ZONE, servfail=["servfail.test"])
    yield d
    d.stop()


@pytest.fixture
def tables():
    """A directory for tables that smtpd can read when it runs as nobody
    (tmp_path is root's alone)."""
    d = tempfile.mkdtemp(prefix="posthorn-policy-")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def smtpd(tmp_path, dns):
    made = []

    def make(services=(), maxproc="-", **main):
        port = free_port()
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "example.org",
            "mynetworks": "127.0.0.1/32",
            "dns_nameservers": dns.address,
        }
        settings.update(main)
        inst = Instance(tmp_path / f"inst{len(made)}", settings,
                        [f"127.0.0.1:{port} inet n - n - {maxproc} smtpd", *services])
        made.append(inst)
        inst.start()
        return inst, port
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def client(port, src="127.0.0.1"):
    return smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(src, 0))


def table(directory, name, text):
    p = directory / name
    p.write_text(text)
    p.chmod(0o644)
    return p


def rcpt_reply(port, rcpt, sender="a@good.test", src="127.0.0.1", helo="client.test"):
    with client(port, src) as s:
        s.ehlo(helo)
        code, text = s.mail(sender)
        if code != 250:
            return code, text.decode()
        code, text = s.rcpt(rcpt)
        return code, text.decode()


def test_relaying_from_outside_mynetworks_is_refused(smtpd):
    inst, port = smtpd(relay_domains="relay.test")
    # Postfix's defaults: permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination.
    assert rcpt_reply(port, "victim@far.test", src="127.0.0.2") == (
        454, "4.7.1 <victim@far.test>: Relay access denied")
    assert rcpt_reply(port, "victim@far.test", src="127.0.0.1")[0] == 250
    for ours in ("bob@example.org", "anyone@relay.test", "postmaster"):
        assert rcpt_reply(port, ours, src="127.0.0.2")[0] == 250, ours
    # Source routes and percent hacks do not open a path to elsewhere.
    assert rcpt_reply(port, "@example.org:victim@far.test", src="127.0.0.2")[0] == 454
    inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 454 4.7.1 <victim@far.test>: "
                  "Relay access denied;")

    inst2, port2 = smtpd(smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination")
    assert rcpt_reply(port2, "victim@far.test", src="127.0.0.2") == (
        554, "5.7.1 <victim@far.test>: Relay access denied")


def test_a_configuration_that_could_relay_openly_does_not_start_smtpd(smtpd):
    inst, port = smtpd(smtpd_relay_restrictions="permit_mynetworks")
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        with client(port, "127.0.0.2") as s:
            s.ehlo("client.test")
    inst.wait_log("specify at least one of reject_unauth_destination")


def test_unknown_local_and_virtual_users_get_550(smtpd, tables):
    users = table(tables, "users", "alice x\n")
    vmailbox = table(tables, "vmailbox", "bob@virtual.test bob/\n")
    valias = table(tables, "valias", "info@alias.test alice@example.org\n")
    inst, port = smtpd(local_recipient_maps=f"texthash:{users}", recipient_delimiter="+",
                       virtual_mailbox_domains="virtual.test", virtual_mailbox_maps=f"texthash:{vmailbox}",
                       virtual_alias_domains="alias.test", virtual_alias_maps=f"texthash:{valias}")
    for known in ("alice@example.org", "alice+tag@example.org", "postmaster@example.org", "postmaster",
                  "bob@virtual.test", "info@alias.test"):
        assert rcpt_reply(port, known)[0] == 250, known
    # Also from mynetworks: the implicit check follows the lists.
    assert rcpt_reply(port, "nobody@example.org") == (
        550, "5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table")
    assert rcpt_reply(port, "nobody@virtual.test") == (
        550, "5.1.1 <nobody@virtual.test>: Recipient address rejected: User unknown in virtual mailbox table")
    assert rcpt_reply(port, "nobody@alias.test") == (
        550, "5.1.1 <nobody@alias.test>: Recipient address rejected: User unknown in virtual alias table")

    # The system's accounts, as Postfix's default local_recipient_maps has them.
    me = getpass.getuser()
    inst2, port2 = smtpd(local_recipient_maps="unix:passwd.byname")
    assert rcpt_reply(port2, f"{me}@example.org")[0] == 250
    assert rcpt_reply(port2, "no-such-account-x7@example.org")[0] == 550
    inst3, port3 = smtpd(local_recipient_maps="unix:passwd.byname", smtpd_reject_unlisted_recipient="no")
    assert rcpt_reply(port3, "no-such-account-x7@example.org")[0] == 250
    # A table that cannot be read: 451, never a guess.
    inst4, port4 = smtpd(local_recipient_maps=f"hash:{tables / 'missing'}")
    assert rcpt_reply(port4, "nobody@example.org") == (
        451, "4.3.0 <nobody@example.org>: Recipient address rejected: Temporary lookup failure")


def test_access_tables_hash_and_texthash(smtpd, tables, tmp_path):
    senders = table(tables, "senders", "spam.test REJECT no spam please\nfriend.spam.test OK\n")
    kind = "hash"
    inst0 = Instance(tmp_path / "tools", {})
    r = inst0.posthorn("map", "build", f"hash:{senders}")
    if r.returncode != 0:  # a build without Berkeley DB
        kind = "lmdb"
        assert inst0.posthorn("map", "build", f"lmdb:{senders}").returncode == 0
    clients = table(tables, "clients", "127.0.0.2 REJECT go away\n")
    rcpts = table(tables, "rcpts", "blocked@example.org 550 5.7.1 mailbox closed\n")
    inst, port = smtpd(smtpd_client_restrictions=f"check_client_access texthash:{clients}",
                       smtpd_sender_restrictions=f"check_sender_access {kind}:{senders}",
                       smtpd_recipient_restrictions=f"check_recipient_access texthash:{rcpts}")
    assert rcpt_reply(port, "bob@example.org", sender="x@spam.test") == (
        554, "5.7.1 <x@spam.test>: Sender address rejected: no spam please")
    # parent_domain_matches_subdomains lists smtpd_access_maps by default.
    assert rcpt_reply(port, "bob@example.org", sender="x@sub.spam.test")[0] == 554
    assert rcpt_reply(port, "bob@example.org", sender="x@friend.spam.test")[0] == 250
    assert rcpt_reply(port, "blocked@example.org") == (
        550, "5.7.1 <blocked@example.org>: Recipient address rejected: mailbox closed")
    assert rcpt_reply(port, "bob@example.org", src="127.0.0.2") == (
        554, "5.7.1 <unknown[127.0.0.2]>: Client host rejected: go away")
    inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <unknown[127.0.0.2]>: "
                  "Client host rejected: go away; from=<a@good.test> to=<bob@example.org> "
                  "proto=ESMTP helo=<client.test>")


def test_rbl_hit_and_miss(smtpd, dns):
    inst, port = smtpd(smtpd_client_restrictions="reject_rbl_client rbl.test")
    assert rcpt_reply(port, "bob@example.org", src="127.0.0.2") == (
        554, "5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.test")
    assert rcpt_reply(port, "bob@example.org", src="127.0.0.1")[0] == 250
    asked = [name for name, _ in dns.zone.queries]
    assert "2.0.0.127.rbl.test" in asked and "1.0.0.127.rbl.test" in asked
    # One question per session, however many recipients.
    before = len(dns.zone.queries)
    with client(port, "127.0.0.1") as s:
        s.ehlo("client.test")
        s.mail("a@good.test")
        for i in range(5):
            assert s.rcpt(f"user{i}@example.org")[0] == 250
    assert [q for q, _ in dns.zone.queries[before:]] == ["1.0.0.127.rbl.test"]


def test_reject_unknown_sender_domain(smtpd):
    inst, port = smtpd(smtpd_sender_restrictions="reject_unknown_sender_domain")
    assert rcpt_reply(port, "bob@example.org", sender="a@nx.test") == (
        450, "4.1.8 <a@nx.test>: Sender address rejected: Domain not found")
    assert rcpt_reply(port, "bob@example.org", sender="a@servfail.test") == (
        450, "4.1.8 <a@servfail.test>: Sender address rejected: Domain not found")
    assert rcpt_reply(port, "bob@example.org", sender="a@good.test")[0] == 250
    assert rcpt_reply(port, "bob@example.org", sender="a@aonly.test")[0] == 250
    assert rcpt_reply(port, "bob@example.org", sender="")[0] == 250
    inst2, port2 = smtpd(smtpd_sender_restrictions="reject_unknown_sender_domain",
                         unknown_address_reject_code="550")
    assert rcpt_reply(port2, "bob@example.org", sender="a@nx.test") == (
        550, "5.1.8 <a@nx.test>: Sender address rejected: Domain not found")


def test_non_fqdn_names(smtpd):
    inst, port = smtpd(smtpd_helo_restrictions="reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
                       smtpd_sender_restrictions="reject_non_fqdn_sender",
                       smtpd_recipient_restrictions="reject_non_fqdn_recipient")
    assert rcpt_reply(port, "bob@example.org", helo="localhost") == (
        504, "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
    assert rcpt_reply(port, "bob@example.org", helo="bad!name.test") == (
        501, "5.5.2 <bad!name.test>: Helo command rejected: Invalid name")
    assert rcpt_reply(port, "bob@example.org", helo="[127.0.0.1]")[0] == 250
    assert rcpt_reply(port, "bob@example.org", sender="a@localhost") == (
        504, "5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address")
    assert rcpt_reply(port, "bob@intranet") == (
        504, "5.5.2 <bob@intranet>: Recipient address rejected: need fully-qualified address")


class Raw:
    def __init__(self, port, src="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
        self.f = self.sock.makefile("rb")

    def line(self):
        return self.f.readline().decode().rstrip("\r\n")

    def reply(self):
        lines = [self.line()]
        while lines[-1][3:4] == "-":
            lines.append(self.line())
        return lines[-1]

    def ask(self, cmd):
        self.sock.sendall(cmd.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.f.close()
        self.sock.close()


def test_smtpd_delay_reject_both_ways(smtpd, tables):
    clients = table(tables, "clients", "127.0.0.2 REJECT\n")
    helos = table(tables, "helos", "bad.test REJECT\n")
    lists = dict(smtpd_client_restrictions=f"check_client_access texthash:{clients}",
                 smtpd_helo_restrictions=f"check_helo_access texthash:{helos}")
    inst, port = smtpd(**lists)  # smtpd_delay_reject = yes: all at RCPT
    r = Raw(port, "127.0.0.2")
    assert r.reply().startswith("220 ")
    assert r.ask("EHLO client.test").startswith("250 ")
    assert r.ask("MAIL FROM:<a@good.test>") == "250 2.1.0 Ok"
    assert r.ask("RCPT TO:<bob@example.org>") == (
        "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied")
    r.close()
    r = Raw(port, "127.0.0.1")
    r.reply()
    assert r.ask("EHLO bad.test").startswith("250 ")
    assert r.ask("MAIL FROM:<a@good.test>") == "250 2.1.0 Ok"
    assert r.ask("RCPT TO:<bob@example.org>") == "554 5.7.1 <bad.test>: Helo command rejected: Access denied"
    r.close()

    inst2, port2 = smtpd(smtpd_delay_reject="no", **lists)  # each at its own stage
    r = Raw(port2, "127.0.0.2")
    assert r.reply() == "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied"
    assert r.ask("EHLO client.test") == "503 5.7.0 Error: access denied for unknown[127.0.0.2]"
    assert r.ask("QUIT") == "221 2.0.0 Bye"
    r.close()
    r = Raw(port2, "127.0.0.1")
    assert r.reply().startswith("220 ")
    assert r.ask("EHLO bad.test") == "554 5.7.1 <bad.test>: Helo command rejected: Access denied"
    assert r.ask("EHLO client.test").startswith("250 ")
    assert r.ask("MAIL FROM:<a@good.test>") == "250 2.1.0 Ok"
    assert r.ask("RCPT TO:<bob@example.org>") == "250 2.1.5 Ok"
    r.close()


def test_a_misconfigured_restriction_is_answered_451(smtpd):
    inst, port = smtpd(smtpd_recipient_restrictions="permit_sasl_authenticated, reject_bogus_thing")
    assert rcpt_reply(port, "bob@example.org") == (451, "4.3.5 Server configuration error")
    inst.wait_log('smtpd_recipient_restrictions: unknown restriction "reject_bogus_thing"')
    # The server goes on serving.
    with client(port) as s:
        assert s.ehlo("client.test")[0] == 250
        assert s.noop()[0] == 250


def test_client_names_from_dns(smtpd):
    inst, port = smtpd(smtpd_peername_lookup="yes",
                       smtpd_client_restrictions="permit_mynetworks, reject_unknown_client_hostname")
    with client(port, "127.0.0.3") as s:
        s.ehlo("helo.test")
        s.sendmail("a@good.test", ["bob@example.org"], b"Subject: name\r\n\r\nbody\r\n")
    inst.wait_log("connect from client.test[127.0.0.3]")
    inst.wait_log("client=client.test[127.0.0.3]")
    incoming = inst.dir / "spool" / "incoming"
    data = wait_for(lambda: [p.read_bytes() for p in incoming.iterdir()] if incoming.exists() else [],
                    what="a queue file")[0]
    assert b"Received: from helo.test (client.test [127.0.0.3])" in data
    # 127.0.0.1 by the hosts file, with no DNS question (as Postfix's
    # gethostbyaddr()), when the file names it.
    listed = [line.split("#")[0].split() for line in open("/etc/hosts")]
    names = [f[1].lower() for f in listed if len(f) > 1 and f[0] == "127.0.0.1"]
    if names:
        with client(port, "127.0.0.1") as s:
            s.ehlo("helo.test")
        inst.wait_log(f"connect from {names[0]}[127.0.0.1]")
    # 127.0.0.2's PTR name does not lead back to it: unknown, with Postfix's warning.
    assert rcpt_reply(port, "bob@example.org", src="127.0.0.2") == (
        450, "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]")
    inst.wait_log("hostname liar.test does not resolve to address 127.0.0.2")
    inst.wait_log("connect from unknown[127.0.0.2]")


def test_sasl_exceptions_networks_see_no_auth(smtpd):
    inst, port = smtpd(smtpd_sasl_auth_enable="yes", smtpd_tls_auth_only="no",
                       smtpd_sasl_exceptions_networks="127.0.0.2/32")
    with client(port, "127.0.0.1") as s:
        assert b"AUTH PLAIN LOGIN" in s.ehlo("client.test")[1]
    with client(port, "127.0.0.2") as s:
        assert b"AUTH" not in s.ehlo("client.test")[1]


def test_etrn_refusals(smtpd):
    inst, port = smtpd(smtpd_etrn_restrictions="permit_mynetworks, reject")
    r = Raw(port)
    r.reply()
    assert r.ask("ETRN remote.test") == "503 5.5.1 Error: send HELO/EHLO first"
    r.sock.sendall(b"EHLO client.test\r\n")
    lines = [r.line()]
    while lines[-1][3:4] == "-":
        lines.append(r.line())
    assert "250-ETRN" in lines
    assert r.ask("ETRN") == "501 5.5.4 Syntax: ETRN domain"
    # No qmgr in this instance.
    assert r.ask("ETRN remote.test") == "458 4.5.0 Unable to queue messages"
    r.close()
    r = Raw(port, "127.0.0.2")
    r.reply()
    r.ask("EHLO client.test")
    assert r.ask("ETRN remote.test") == "554 5.7.1 <remote.test>: Etrn command rejected: Access denied"
    r.close()


def test_etrn_retries_deferred_mail_at_once(smtpd):
    rport = free_port()
    remote = FakeSmtp("127.0.0.40", rport, name="mx.remote.test",
                      rcpt_reply=lambda a: "450 4.2.0 <%s>: try again later" % a)
    try:
        inst, port = smtpd(["qmgr unix n - n 1 1 qmgr", "smtp unix - - n - - smtp"],
                           smtp_tcp_port=str(rport), inet_interfaces="127.0.0.1",
                           queue_run_delay="3600s", minimal_backoff_time="3600s",
                           maximal_backoff_time="7200s")
        wait_for(lambda: (inst.dir / "spool" / "private" / "smtp").exists(), what="the smtp socket")
        with client(port) as s:
            s.ehlo("client.test")
            assert s.sendmail("a@good.test", ["bob@remote.test"], b"Subject: etrn\r\n\r\nretry me\r\n") == {}
        deferred = inst.dir / "spool" / "deferred"
        wait_for(lambda: deferred.exists() and any(p.is_file() for p in deferred.rglob("*")), 30,
                 "the message in deferred/")
        assert remote.delivered() == []
        remote.rcpt_reply = lambda a: "250 2.1.5 Ok"
        r = Raw(port)
        r.reply()
        r.ask("EHLO client.test")
        assert r.ask("ETRN remote.test") == "250 2.0.0 Queuing started"
        r.close()
        wait_for(lambda: remote.delivered(), 30, "the retried delivery")
        assert b"retry me" in remote.delivered()[0].data
        inst.wait_log("ETRN remote.test: 1 deferred message to retry")
    finally:
        remote.stop()


def test_a_changed_access_table_is_used_by_the_next_process(smtpd, tables):
    access = table(tables, "access", "spam.test REJECT\n")
    # One process at a time, so that the second session meets the old one.
    inst, port = smtpd(maxproc="1", smtpd_sender_restrictions=f"check_sender_access texthash:{access}")
    assert rcpt_reply(port, "bob@example.org", sender="a@spam.test")[0] == 554
    # The session has ended on the server's side too (it looks at its
    # tables then) before the table changes.
    wait_for(lambda: inst.log().count("disconnect from") == 1, what="the first disconnect")
    fresh = table(tables, "access.new", "other.test REJECT\n")
    fresh.rename(access)
    # The process that read the old table finishes its session with it,
    # then makes way (Postfix's "has changed -- restarting").
    assert rcpt_reply(port, "bob@example.org", sender="a@spam.test")[0] == 554
    inst.wait_log(f"table texthash:{access} has changed -- restarting")
    assert rcpt_reply(port, "bob@example.org", sender="a@spam.test")[0] == 250
    assert rcpt_reply(port, "bob@example.org", sender="a@other.test")[0] == 554


def test_implicit_tls_handshake_may_finish_before_the_name_lookup(smtpd, tables):
    from tlsauth_helpers import client_context, make_cert
    cert, key = make_cert(tables, "rsa")
    slow = FakeDns({}, silent=["3.0.0.127.in-addr.arpa"])  # the PTR question goes unanswered
    try:
        inst, port = smtpd(smtpd_tls_wrappermode="yes", smtpd_tls_cert_file=str(cert),
                           smtpd_tls_key_file=str(key), smtpd_peername_lookup="yes",
                           dns_nameservers=slow.address, dns_timeout="1s", dns_retry_count="1")
        raw = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=("127.0.0.3", 0))
        with client_context().wrap_socket(raw) as s:  # the handshake is done here
            f = s.makefile("rb")
            assert f.readline().startswith(b"220 ")  # after the lookup gave up
            s.sendall(b"EHLO client.test\r\n")
            assert f.readline().startswith(b"250")
        inst.wait_log("connect from unknown[127.0.0.3]")
        assert "3.0.0.127.in-addr.arpa" in [q for q, _ in slow.zone.queries]
    finally:
        slow.stop()
