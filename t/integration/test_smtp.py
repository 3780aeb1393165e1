"""Integration tests of the smtp delivery agent.

A real instance runs the smtp agent (master.cf "smtp" and "relay"); a fake
DNS server (fakedns.py) serves the test zone through dns_nameservers, and
fake remote servers (smtpfake.py) listen on distinct 127.0.0.x addresses on
one port, which smtp_tcp_port names. t/progs/smtp_request plays qmgr: it
writes a queue file into active/ and sends one deliver request to the
agent's socket; its JSON output is the agent's reply. The tests look at
what the remote servers received and at the delivery lines in the log.
"""
import json
import os
import re
import socket
import subprocess
import time

import pytest

from fakedns import FakeDns
from instance import BUILD, Instance, free_port, wait_for
from smtpfake import FakeSmtp

REQUEST = BUILD / "t" / "progs" / "smtp_request"
MESSAGE = (b"From: Sender <sender@client.test>\r\n"
           b"To: <bob@example.test>\r\n"
           b"Subject: hello\r\n"
           b"\r\n"
           b"first line\r\n"
           b".a line with a leading dot\r\n"
           b"last line\r\n")


@pytest.fixture
def env(tmp_path):
    """make(zone, servers={ip: kwargs}, main={...}, opts=[...]) -> Env."""
    made = []

    class Env:
        pass

    def make(zone, servers=None, main=None, opts=(), maxproc=2, prepare=None):
        e = Env()
        e.port = free_port()
        e.dns = FakeDns(zone)
        made.append(e)
        e.servers = {}
        for ip, kw in (servers or {}).items():
            e.servers[ip] = FakeSmtp(ip, e.port, **kw)
        d = tmp_path / f"inst{len(made)}"
        d.mkdir()
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "posthorn.test",
            "dns_nameservers": e.dns.address,
            "dns_timeout": "2s",
            "dns_retry_count": "1",
            "smtp_tcp_port": str(e.port),
            "smtp_connect_timeout": "3s",
            "smtp_helo_timeout": "3s",
            "smtp_connection_cache_on_demand": "no",
        }
        settings.update(main or {})
        o = "".join(f" -o {x}" for x in opts)
        e.inst = Instance(d, settings, [f"smtp unix - - n - {maxproc} smtp{o}",
                                        f"relay unix - - n - {maxproc} smtp{o}"])
        if prepare:
            prepare(e)
        e.inst.start()
        wait_for(lambda: (d / "spool" / "private" / "smtp").exists(), what="the smtp socket")
        return e
    yield make
    left = []
    for e in made:
        left += e.inst.teardown()
        for s in e.servers.values():
            s.stop()
        e.dns.stop()
    assert not left, f"processes left behind: {left}"


def send(e, nexthop, *rcpts, sender="sender@client.test", message=MESSAGE, transport="smtp", extra=()):
    """One deliver request; returns (queue_id, [result, ...])."""
    args = [str(REQUEST), "-q", str(e.inst.dir / "spool"),
            "-s", str(e.inst.dir / "spool" / "private" / transport),
            "-t", transport, "-n", nexthop, "-f", sender, *extra]
    for r in rcpts:
        args += ["-r", r]
    p = subprocess.run(args, input=message, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode() + "\n" + e.inst.log()
    out = json.loads(p.stdout)
    return out["queue_id"], out["results"]


def delivery_lines(e, qid):
    return [l for l in e.inst.log().splitlines() if f"{qid}: to=<" in l]


ZONE = {
    "example.test": [("MX", 10, "mx1.example.test"), ("MX", 20, "mx2.example.test")],
    "mx1.example.test": [("A", "127.0.0.2")],
    "mx2.example.test": [("A", "127.0.0.3")],
}


def test_mx_order_and_fallback_on_refused_connection(env):
    # mx1 (127.0.0.2) has no server: connection refused, mx2 takes the mail.
    e = env(ZONE, {"127.0.0.3": {"name": "mx2.example.test"}})
    qid, res = send(e, "example.test", "bob@example.test", "carol@example.test")
    assert [r["status"] for r in res] == ["sent", "sent"]
    assert res[0]["relay"] == f"mx2.example.test[127.0.0.3]:{e.port}"
    assert res[0]["text"].startswith("250 2.0.0 Ok: queued as FAKE")
    tx = e.servers["127.0.0.3"].delivered()
    assert len(tx) == 1
    assert tx[0].mail.startswith("MAIL FROM:<sender@client.test>")
    assert tx[0].rcpts == ["RCPT TO:<bob@example.test>", "RCPT TO:<carol@example.test>"]
    # Dot-stuffed on the wire; the server sees the stuffed line.
    assert b"\r\n..a line with a leading dot\r\n" in tx[0].data
    log = e.inst.log()
    assert f"connect to mx1.example.test[127.0.0.2]:{e.port}: Connection refused" in log
    lines = delivery_lines(e, qid)
    assert len(lines) == 2
    assert re.search(rf"{qid}: to=<bob@example.test>, relay=mx2.example.test\[127.0.0.3\]:{e.port}, "
                     r"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2.0.0, "
                     r"status=sent \(250 2.0.0 Ok: queued as FAKE1\)", lines[0]), lines[0]
    # MX order: mx1 was asked first.
    mx_queries = [q for q in e.dns.zone.queries if q[1] == 15]
    assert mx_queries == [("example.test", 15)]


def test_fallback_when_first_mx_stalls_or_says_421(env):
    e = env(ZONE, {"127.0.0.2": {"name": "mx1.example.test", "stall_greeting": True},
                   "127.0.0.3": {"name": "mx2.example.test"}},
            main={"smtp_helo_timeout": "2s"})
    start = time.monotonic()
    qid, res = send(e, "example.test", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert time.monotonic() - start < 15
    assert "conversation with mx1.example.test[127.0.0.2] timed out while receiving the initial server greeting" \
        in e.inst.log()

    e2 = env(ZONE, {"127.0.0.2": {"name": "mx1.example.test", "greeting": "421 4.3.2 busy"},
                    "127.0.0.3": {"name": "mx2.example.test"}})
    _, res = send(e2, "example.test", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert "host mx1.example.test[127.0.0.2] refused to talk to me: 421 4.3.2 busy" in e2.inst.log()


def test_all_hosts_fail_defers_with_the_last_reason(env):
    e = env(ZONE, {})
    qid, res = send(e, "example.test", "bob@example.test")
    assert res[0]["status"] == "deferred"
    assert res[0]["dsn"] == "4.4.1"
    assert res[0]["text"] == f"connect to mx2.example.test[127.0.0.3]:{e.port}: Connection refused"
    assert res[0]["relay"] == "none"


def test_implicit_mx_null_mx_loop_and_dns_failures(env):
    zone = dict(ZONE)
    zone.update({
        "plain.test": [("A", "127.0.0.4")],
        "nullmx.test": [("MX", 0, ".")],
        "loop.test": [("MX", 10, "posthorn.test")],
        "posthorn.test": [("A", "127.0.0.1")],
    })
    e = env(zone, {"127.0.0.4": {"name": "plain.test"}})
    e.dns.zone.servfail.add("broken.test")
    _, res = send(e, "plain.test", "bob@plain.test")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"plain.test[127.0.0.4]:{e.port}"

    _, res = send(e, "nullmx.test", "bob@nullmx.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.1.10")
    assert res[0]["text"] == "Domain nullmx.test does not accept mail (nullMX)"

    _, res = send(e, "loop.test", "bob@loop.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.4.6")
    assert res[0]["text"] == "mail for loop.test loops back to myself"

    _, res = send(e, "nowhere.test", "bob@nowhere.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.4.4")

    _, res = send(e, "broken.test", "bob@broken.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.4.3")


def test_bracketed_nexthop_skips_mx(env):
    zone = dict(ZONE)
    zone["relay.test"] = [("MX", 10, "mx1.example.test"), ("A", "127.0.0.5")]
    e = env(zone, {"127.0.0.5": {"name": "relay.test"}})
    _, res = send(e, "[relay.test]", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"relay.test[127.0.0.5]:{e.port}"
    assert ("relay.test", 15) not in e.dns.zone.queries
    # An address literal with its own port: no DNS at all.
    other = free_port()
    srv = FakeSmtp("127.0.0.6", other, name="lit.test")
    try:
        n = len(e.dns.zone.queries)
        _, res = send(e, f"[127.0.0.6]:{other}", "bob@example.test")
        assert res[0]["status"] == "sent"
        assert res[0]["relay"] == f"127.0.0.6[127.0.0.6]:{other}"
        assert len(e.dns.zone.queries) == n
    finally:
        srv.stop()


def test_per_recipient_results_and_data_stage(env):
    replies = {"bad@example.test": "550 5.1.1 <bad@example.test>: Recipient address rejected",
               "later@example.test": "450 4.2.0 <later@example.test>: try again"}
    e = env(ZONE, {"127.0.0.2": {"name": "mx1.example.test",
                                 "rcpt_reply": lambda a: replies.get(a, "250 2.1.5 Ok")}})
    qid, res = send(e, "example.test", "good@example.test", "bad@example.test", "later@example.test")
    assert [r["status"] for r in res] == ["sent", "bounced", "deferred"]
    assert [r["dsn"] for r in res] == ["2.0.0", "5.1.1", "4.2.0"]
    assert res[1]["text"] == ("host mx1.example.test[127.0.0.2] said: 550 5.1.1 <bad@example.test>: "
                              "Recipient address rejected (in reply to RCPT TO command)")
    assert len(delivery_lines(e, qid)) == 3
    assert e.servers["127.0.0.2"].delivered()[0].rcpts == ["RCPT TO:<good@example.test>"]

    e2 = env(ZONE, {"127.0.0.2": {"name": "mx1.example.test", "end_reply": "554 5.7.1 content rejected"}})
    _, res = send(e2, "example.test", "a@example.test", "b@example.test")
    assert [r["status"] for r in res] == ["bounced", "bounced"]
    assert all("(in reply to end of DATA command)" in r["text"] for r in res)


def test_temporary_failure_then_success(env):
    state = {"n": 0}

    def greylist(addr):
        state["n"] += 1
        return "451 4.7.1 greylisted, come back later" if state["n"] == 1 else "250 2.1.5 Ok"
    e = env({"grey.test": [("A", "127.0.0.7")]}, {"127.0.0.7": {"name": "grey.test", "rcpt_reply": greylist}})
    _, res = send(e, "grey.test", "bob@grey.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.7.1")
    _, res = send(e, "grey.test", "bob@grey.test")
    assert res[0]["status"] == "sent"
    assert len(e.servers["127.0.0.7"].delivered()) == 1


def test_ehlo_refused_falls_back_to_helo_and_8bit_is_converted(env):
    e = env({"old.test": [("A", "127.0.0.8")]},
            {"127.0.0.8": {"name": "old.test", "ehlo_refused": True}})
    msg = b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n"
    _, res = send(e, "old.test", "bob@old.test", message=msg, extra=["-8"])
    assert res[0]["status"] == "sent"
    srv = e.servers["127.0.0.8"]
    assert "HELO posthorn.test" in srv.commands
    tx = srv.delivered()[0]
    assert tx.mail == "MAIL FROM:<sender@client.test>"
    assert b"caf=C3=A9" in tx.data
    assert b"Content-Transfer-Encoding: quoted-printable" in tx.data
    assert all(b < 128 for b in tx.data)


def test_esmtp_parameters_when_offered(env):
    e = env({"new.test": [("A", "127.0.0.9")]}, {"127.0.0.9": {"name": "new.test"}})
    msg = b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n"
    _, res = send(e, "new.test", "bob@new.test", message=msg,
                  extra=["-8", "-N", "6", "-O", "rfc822;orig+x@new.test", "-E", "env id", "-R", "hdrs"])
    assert res[0]["status"] == "sent"
    tx = e.servers["127.0.0.9"].delivered()[0]
    assert tx.mail == f"MAIL FROM:<sender@client.test> SIZE={len(msg)} BODY=8BITMIME RET=HDRS ENVID=env+20id"
    assert tx.rcpts == ["RCPT TO:<bob@new.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx@new.test"]
    assert b"caf\xc3\xa9" in tx.data


def test_chunking_sends_bdat_unless_discarded(env):
    ext = ["PIPELINING", "SIZE 10240000", "8BITMIME", "CHUNKING"]
    e = env({"chunk.test": [("A", "127.0.0.25")]}, {"127.0.0.25": {"name": "chunk.test", "extensions": ext}})
    _, res = send(e, "chunk.test", "bob@chunk.test", "carol@chunk.test")
    assert [r["status"] for r in res] == ["sent", "sent"]
    srv = e.servers["127.0.0.25"]
    assert "DATA" not in srv.commands
    assert any(c.startswith("BDAT ") and c.endswith(" LAST") for c in srv.commands)
    # No dot-stuffing: the chunk is the message as it is.
    assert srv.delivered()[0].data == MESSAGE
    e2 = env({"chunk.test": [("A", "127.0.0.26")]}, {"127.0.0.26": {"name": "chunk.test", "extensions": ext}},
             main={"smtp_discard_ehlo_keywords": "chunking"})
    _, res = send(e2, "chunk.test", "bob@chunk.test")
    assert res[0]["status"] == "sent"
    srv2 = e2.servers["127.0.0.26"]
    assert "DATA" in srv2.commands and not any(c.startswith("BDAT") for c in srv2.commands)
    assert srv2.delivered()[0].data == MESSAGE.replace(b"\r\n.a", b"\r\n..a")


def test_bdat_to_posthorns_own_smtpd(env, tmp_path):
    """Our smtpd offers CHUNKING: the agent's BDAT must leave the message
    exactly as it was queued (no dot-stuffing left behind, nothing lost)."""
    import smtplib
    e = env({"own.test": [("A", "127.0.0.27")]})
    d = tmp_path / "remote"
    d.mkdir()
    remote = Instance(d, {"daemon_directory": str(BUILD / "bin"), "myhostname": "own.test",
                          "mydestination": "own.test", "local_recipient_maps": "",
                          "inet_interfaces": "127.0.0.27"},
                      [f"127.0.0.27:{e.port} inet n - n - - smtpd"])
    try:
        remote.start()
        wait_for(lambda: remote.log().count("daemon started"), what="the remote instance")
        with smtplib.SMTP("127.0.0.27", e.port, timeout=10) as s:
            s.ehlo("probe.test")
            assert s.has_extn("chunking")
        qid, res = send(e, "own.test", "bob@own.test")
        assert res[0]["status"] == "sent", res
        remote_id = res[0]["text"].rsplit(" ", 1)[1]
        r = remote.posthorn("queue", "show", "--body", remote_id)
        assert r.returncode == 0, r.stderr
        assert "\n.a line with a leading dot\nlast line\n" in r.stdout
        assert "..a line" not in r.stdout
    finally:
        left = remote.teardown()
    assert not left, f"processes left behind: {left}"


def test_smtputf8_required_but_not_offered(env):
    e = env({"ascii.test": [("A", "127.0.0.10")]},
            {"127.0.0.10": {"name": "ascii.test", "extensions": ["PIPELINING", "8BITMIME"]}})
    _, res = send(e, "ascii.test", "bøb@ascii.test", extra=["-U"])
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.6.7")
    assert res[0]["text"] == "SMTPUTF8 is required, but was not offered by host ascii.test[127.0.0.10]"


def test_remote_stalling_mid_data_is_deferred_in_bounded_time(env):
    e = env({"slow.test": [("A", "127.0.0.11")]},
            {"127.0.0.11": {"name": "slow.test", "stall_in_data": True}},
            opts=["smtp_data_xfer_timeout=2s", "smtp_data_done_timeout=2s"])
    big = MESSAGE + b"x" * 998 + b"\r\n"
    big = big + (b"y" * 998 + b"\r\n") * 9000  # ~9 MB: more than the socket buffers hold
    start = time.monotonic()
    _, res = send(e, "slow.test", "bob@slow.test", message=big)
    elapsed = time.monotonic() - start
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.4.2")
    assert "timed out while sending message body" in res[0]["text"] or \
        "timed out while sending end of data" in res[0]["text"]
    assert elapsed < 30


# --- TLS -------------------------------------------------------------------

@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    """A test CA and a server certificate for mx.tls.test, made with openssl."""
    d = tmp_path_factory.mktemp("ca")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Posthorn Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=mx.tls.test")
    (d / "ext").write_text("subjectAltName=DNS:mx.tls.test\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "2", "-extfile", "ext")
    return d


def server_tls(ca):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(ca / "srv.pem"), str(ca / "srv.key"))
    return ctx


TLS_ZONE = {
    "tls.test": [("MX", 10, "mx.tls.test")],
    "mx.tls.test": [("A", "127.0.0.12")],
    "wrong.test": [("MX", 10, "mx.wrong.test")],
    "mx.wrong.test": [("A", "127.0.0.13")],
    "badtls.test": [("MX", 10, "mx.badtls.test")],
    "mx.badtls.test": [("A", "127.0.0.14")],
    "notls.test": [("A", "127.0.0.15")],
}


def tls_env(env, test_ca, level):
    return env(TLS_ZONE, {"127.0.0.12": {"name": "mx.tls.test", "tls_context": server_tls(test_ca)},
                          "127.0.0.13": {"name": "mx.wrong.test", "tls_context": server_tls(test_ca)},
                          "127.0.0.14": {"name": "mx.badtls.test", "broken_tls": True},
                          "127.0.0.15": {"name": "notls.test"}},
               main={"smtp_tls_security_level": level, "smtp_tls_CAfile": str(test_ca / "ca.pem")})


def test_tls_verify_passes_and_wrong_name_fails(env, test_ca):
    e = tls_env(env, test_ca, "verify")
    qid, res = send(e, "tls.test", "bob@tls.test")
    assert res[0]["status"] == "sent", res
    assert e.servers["127.0.0.12"].tls_sessions == 1
    assert re.search(rf"Verified TLS connection established to mx.tls.test\[127.0.0.12\]:{e.port}: "
                     r"TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)", e.inst.log())

    _, res = send(e, "wrong.test", "bob@wrong.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.7.5")
    assert "not verified" in res[0]["text"] or "certificate" in res[0]["text"].lower(), res[0]["text"]
    assert e.servers["127.0.0.13"].delivered() == []

    _, res = send(e, "notls.test", "bob@notls.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.7.4")
    assert res[0]["text"] == "TLS is required, but was not offered by host notls.test[127.0.0.15]"
    assert e.servers["127.0.0.15"].delivered() == []


def test_tls_may_uses_tls_and_falls_back_after_a_failed_handshake(env, test_ca):
    e = tls_env(env, test_ca, "may")
    _, res = send(e, "wrong.test", "bob@wrong.test")  # any certificate will do at "may"
    assert res[0]["status"] == "sent"
    assert e.servers["127.0.0.13"].tls_sessions == 1
    assert "TLS connection established to mx.wrong.test[127.0.0.13]" in e.inst.log()

    _, res = send(e, "badtls.test", "bob@badtls.test")
    assert res[0]["status"] == "sent", res
    srv = e.servers["127.0.0.14"]
    assert srv.connections == 2  # the failed handshake, then plain text
    assert len(srv.delivered()) == 1
    assert "trying mx.badtls.test[127.0.0.14]:%d again without TLS" % e.port in e.inst.log()

    _, res = send(e, "notls.test", "bob@notls.test")
    assert res[0]["status"] == "sent"


def test_tls_wrappermode_to_a_port_465_smarthost(env, test_ca):
    # TLS from the first byte (smtp_tls_wrappermode), then AUTH, as to a
    # submissions (465) smarthost; a server that speaks plain text fails.
    e = env(TLS_ZONE, {"127.0.0.12": {"name": "mx.tls.test", "implicit_tls": server_tls(test_ca)},
                       "127.0.0.15": {"name": "notls.test"}},
            main={"smtp_tls_security_level": "verify", "smtp_tls_CAfile": str(test_ca / "ca.pem"),
                  "smtp_tls_wrappermode": "yes"})
    _, res = send(e, "[mx.tls.test]", "bob@far.test", transport="relay")
    assert res[0]["status"] == "sent", res
    srv = e.servers["127.0.0.12"]
    assert srv.tls_sessions == 1
    assert "STARTTLS" not in srv.commands
    assert f"Verified TLS connection established to mx.tls.test[127.0.0.12]:{e.port}" in e.inst.log()
    _, res = send(e, "[notls.test]", "bob@far.test", transport="relay")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.7.5")
    assert res[0]["text"].startswith("TLS handshake with notls.test[127.0.0.15] failed") or \
        "timed out while performing the TLS handshake" in res[0]["text"], res[0]["text"]
    assert e.servers["127.0.0.15"].delivered() == []


def test_tls_wrappermode_needs_encrypt(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    inst = Instance(d, {"daemon_directory": str(BUILD / "bin"), "smtp_tls_wrappermode": "yes"},
                    ["smtp unix - - n - 1 smtp"])
    try:
        inst.start()
        sock = d / "spool" / "private" / "smtp"
        wait_for(sock.exists, what="the smtp socket")
        with socket.socket(socket.AF_UNIX) as s:  # master starts smtp on demand
            s.connect(str(sock))
            inst.wait_log("smtp_tls_wrappermode = yes needs smtp_tls_security_level = encrypt or stronger", 20)
    finally:
        left = inst.teardown()
    assert not left, f"processes left behind: {left}"


# --- SASL ------------------------------------------------------------------

def test_relayhost_with_sasl_auth(env, tmp_path):
    pw = tmp_path / "sasl_passwd"

    def write_passwords(e):  # keyed by the next hop as written, port included
        pw.write_text(f"[relay.test]:{e.port} alice:s3cret\n")
        pw.chmod(0o600)  # read before the agent drops privileges
    e = env({"relay.test": [("A", "127.0.0.16")]},
            {"127.0.0.16": {"name": "relay.test", "auth": {"alice": "s3cret"}}},
            main={"smtp_sasl_auth_enable": "yes", "smtp_sasl_password_maps": f"texthash:{pw}",
                  "smtp_sasl_security_options": "noanonymous"},
            prepare=write_passwords)
    _, res = send(e, f"[relay.test]:{e.port}", "bob@far.test", transport="relay")
    assert res[0]["status"] == "sent", res
    srv = e.servers["127.0.0.16"]
    assert srv.auth_users and srv.auth_users[0][1] == "alice"
    assert "s3cret" not in e.inst.log()


def test_relayhost_sasl_wrong_password_defers(env, tmp_path):
    pw = tmp_path / "sasl_passwd"
    pw.write_text("relay.test alice:wrong\n")
    e = env({"relay.test": [("A", "127.0.0.17")]},
            {"127.0.0.17": {"name": "relay.test", "auth": {"alice": "s3cret"}}},
            main={"smtp_sasl_auth_enable": "yes", "smtp_sasl_password_maps": f"texthash:{pw}",
                  "smtp_sasl_security_options": "noanonymous"})
    _, res = send(e, "[relay.test]", "bob@far.test", transport="relay")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.7.8")
    assert res[0]["text"].startswith("SASL authentication failed; server relay.test[127.0.0.17] said: 535")
    assert e.servers["127.0.0.17"].delivered() == []


# --- connection reuse ------------------------------------------------------

def test_connection_reuse_between_jobs(env):
    e = env({"reuse.test": [("A", "127.0.0.18")]}, {"127.0.0.18": {"name": "reuse.test"}},
            main={"smtp_connection_cache_on_demand": "yes", "smtp_connection_cache_time_limit": "5s"},
            maxproc=1)
    for n in range(3):
        _, res = send(e, "reuse.test", f"bob{n}@reuse.test")
        assert res[0]["status"] == "sent"
    srv = e.servers["127.0.0.18"]
    assert srv.connections == 1
    assert len(srv.delivered()) == 3
    assert srv.commands.count("RSET") == 2
    # Idle past the time limit: the agent says QUIT.
    wait_for(lambda: "QUIT" in srv.commands, timeout=15, what="QUIT after the cache time limit")


def test_dropped_cached_connection_is_replaced_without_a_deferral(env):
    # The server drops each connection after one message; the cached session
    # fails its RSET (sent ahead of MAIL in the pipelined group), and the
    # agent delivers through a fresh connection in the same job.
    e = env({"drop.test": [("A", "127.0.0.21")]}, {"127.0.0.21": {"name": "drop.test", "close_after": 1}},
            main={"smtp_connection_cache_on_demand": "yes", "smtp_connection_cache_time_limit": "5s"},
            maxproc=1)
    for n in range(3):
        qid, res = send(e, "drop.test", f"bob{n}@drop.test")
        assert res[0]["status"] == "sent", res
        assert [l for l in delivery_lines(e, qid) if "status=deferred" in l] == []
    srv = e.servers["127.0.0.21"]
    assert srv.connections == 3
    assert len(srv.delivered()) == 3
    assert "lost connection" not in e.inst.log()


def test_connection_reuse_count_limit(env):
    e = env({"reuse.test": [("A", "127.0.0.19")]}, {"127.0.0.19": {"name": "reuse.test"}},
            main={"smtp_connection_cache_on_demand": "yes", "smtp_connection_cache_time_limit": "5s",
                  "smtp_connection_reuse_count_limit": "2"},
            maxproc=1)
    for n in range(3):
        _, res = send(e, "reuse.test", f"bob{n}@reuse.test")
        assert res[0]["status"] == "sent"
    assert e.servers["127.0.0.19"].connections == 2


def test_fallback_relay_for_unreachable_or_unknown_destinations(env):
    zone = {"dead.test": [("MX", 10, "mx.dead.test")], "mx.dead.test": [("A", "127.0.0.20")],
            "nullmx.test": [("MX", 0, ".")]}
    e = env(zone, {"127.0.0.21": {"name": "fallback.test"}},
            main={"smtp_fallback_relay": "[127.0.0.21]"})
    _, res = send(e, "dead.test", "bob@dead.test")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"127.0.0.21[127.0.0.21]:{e.port}"
    _, res = send(e, "unknown.test", "bob@unknown.test")
    assert res[0]["status"] == "sent"
    _, res = send(e, "nullmx.test", "bob@nullmx.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.1.10")
    assert len(e.servers["127.0.0.21"].delivered()) == 2


def test_long_lines_are_broken(env):
    e = env({"lines.test": [("A", "127.0.0.22")]}, {"127.0.0.22": {"name": "lines.test"}})
    msg = b"Subject: long\r\n\r\n" + b"z" * 2500 + b"\r\nshort\r\n"
    _, res = send(e, "lines.test", "bob@lines.test", message=msg)
    assert res[0]["status"] == "sent"
    data = e.servers["127.0.0.22"].delivered()[0].data
    lines = data.split(b"\r\n")
    assert max(len(l) for l in lines) <= 998
    assert data.replace(b"\r\n ", b"").count(b"z") == 2500


def test_tls_policy_maps_per_destination(env, test_ca, tmp_path):
    policy = tmp_path / "tls_policy"
    policy.write_text("tls.test verify\n.wrong.test encrypt\nnotls.test encrypt\n")
    e = env(TLS_ZONE, {"127.0.0.12": {"name": "mx.tls.test", "tls_context": server_tls(test_ca)},
                       "127.0.0.13": {"name": "mx.wrong.test", "tls_context": server_tls(test_ca)},
                       "127.0.0.15": {"name": "notls.test"}},
            main={"smtp_tls_policy_maps": f"texthash:{policy}", "smtp_tls_CAfile": str(test_ca / "ca.pem")})
    _, res = send(e, "tls.test", "bob@tls.test")
    assert res[0]["status"] == "sent"
    assert "Verified TLS connection established to mx.tls.test[127.0.0.12]" in e.inst.log()
    # "wrong.test" matches ".wrong.test"? No: a leading dot is for subdomains only.
    _, res = send(e, "wrong.test", "bob@wrong.test")
    assert res[0]["status"] == "sent"
    assert e.servers["127.0.0.13"].tls_sessions == 0
    _, res = send(e, "notls.test", "bob@notls.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.7.4")


def test_nexthop_list_is_tried_in_order(env):
    e = env({}, {"127.0.0.24": {"name": "second.test"}})
    _, res = send(e, f"[127.0.0.23]:{e.port}, [127.0.0.24]:{e.port}", "bob@far.test", transport="relay")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"127.0.0.24[127.0.0.24]:{e.port}"
    assert f"connect to 127.0.0.23[127.0.0.23]:{e.port}: Connection refused" in e.inst.log()
    _, res = send(e, "[127.0.0.23]:nosuchservice", "bob@far.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.3.5")


# --- end to end: smtplib -> smtpd -> qmgr -> smtp -> remote ------------------

def test_end_to_end_relay_with_a_bounce_for_the_rejected_recipient(tmp_path):
    import smtplib
    rport = free_port()
    dns = FakeDns({"remote.test": [("MX", 10, "mx.remote.test")], "mx.remote.test": [("A", "127.0.0.30")]})
    remote = FakeSmtp("127.0.0.30", rport, name="mx.remote.test",
                      rcpt_reply=lambda a: "550 5.1.1 <%s>: no such user" % a if a.startswith("bad@")
                      else "250 2.1.5 Ok")
    port = free_port()
    d = tmp_path / "e2e"
    inst = Instance(d, {
        "daemon_directory": str(BUILD / "bin"),
        "myhostname": "posthorn.test", "mydestination": "posthorn.test",
        "mynetworks": "127.0.0.0/8", "inet_interfaces": "127.0.0.1",
        "dns_nameservers": dns.address, "smtp_tcp_port": str(rport),
        "queue_run_delay": "1s", "minimal_backoff_time": "1s",
    }, [f"127.0.0.1:{port} inet n - n - - smtpd",
        "qmgr unix n - n 1 1 qmgr",
        "smtp unix - - n - - smtp",
        "relay unix - - n - - smtp"])
    try:
        inst.start()
        wait_for(lambda: (d / "spool" / "private" / "smtp").exists(), what="the smtp socket")
        msg = (b"From: alice@remote.test\r\nTo: bob@remote.test\r\nSubject: e2e\r\n"
               b"Message-ID: <e2e.1@remote.test>\r\n\r\nend to end\r\n")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            s.ehlo("client.test")
            s.mail("alice@remote.test")
            assert s.rcpt("bob@remote.test")[0] == 250
            assert s.rcpt("bad@remote.test")[0] == 250
            code, text = s.data(msg)
            assert code == 250, text
        qid = text.decode().rsplit(" ", 1)[1]
        # The message, then the bounce for bad@ (from <>) to alice.
        wait_for(lambda: len(remote.delivered()) >= 2, 30, "the message and the bounce at the remote")
        first, bounce = remote.delivered()[:2]
        assert first.rcpts == ["RCPT TO:<bob@remote.test>"]
        assert b"end to end" in first.data
        assert bounce.mail.startswith("MAIL FROM:<>")
        assert bounce.rcpts[0].startswith("RCPT TO:<alice@remote.test>")
        assert b"bad@remote.test" in bounce.data and b"5.1.1" in bounce.data
        log = inst.wait_log(f"{qid}: to=<bob@remote.test>, relay=mx.remote.test[127.0.0.30]:{rport}")
        assert re.search(rf"{qid}: to=<bad@remote.test>, relay=mx.remote.test\[127.0.0.30\]:{rport}, .*"
                         r"dsn=5.1.1, status=bounced \(host mx.remote.test\[127.0.0.30\] said: 550 5.1.1",
                         inst.log())
        wait_for(lambda: not any((d / "spool" / q).exists() and any((d / "spool" / q).iterdir())
                                 for q in ("incoming", "active", "deferred")), 30, "an empty queue")
    finally:
        left = inst.teardown()
        remote.stop()
        dns.stop()
    assert not left, f"processes left behind: {left}"
