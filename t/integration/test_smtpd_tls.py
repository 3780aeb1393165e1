"""smtpd's TLS: STARTTLS (RFC 3207) on the MX and submission ports, implicit
TLS (RFC 8314) on a wrapper-mode port, RSA and ECDSA certificates, the
protocol limits, and certificates replaced on disk while smtpd runs.

Clients are Python's smtplib and ssl modules over real sockets; the
certificates are made with the openssl command.
"""
import shutil
import smtplib
import socket
import ssl

import pytest

from instance import free_port, wait_for
from tlsauth_helpers import (MailSystem, client_context, fingerprint, make_cert,
                             shared_dir)


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


def read_reply(f):
    """One SMTP reply (all its lines) from a binary file object."""
    lines = []
    while True:
        line = f.readline()
        assert line, "connection closed"
        lines.append(line)
        if line[3:4] != b"-":
            return lines


def test_starttls_on_the_mx_port_then_mail_is_queued_as_esmtps(mail):
    m = mail(main={"smtpd_tls_received_header": "yes"})
    with smtplib.SMTP("127.0.0.1", m.mx, timeout=10) as s:
        code, caps = s.ehlo("client.example")
        assert b"STARTTLS" in caps
        assert b"AUTH" not in caps  # smtpd_sasl_auth_enable is off on port 25
        code, text = s.starttls(context=client_context())
        assert (code, text) == (220, b"2.0.0 Ready to start TLS")
        code, caps = s.ehlo("client.example")
        assert code == 250 and b"STARTTLS" not in caps
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert s.sendmail("alice@client.example", ["bob@example.org"],
                          b"Subject: tls\r\n\r\nover TLS\r\n") == {}
        code, text = s.docmd("STARTTLS")
        assert (code, text) == (554, b"5.5.1 Error: TLS already active")
    files = wait_for(m.queued, what="a queue file")
    data = files[0].read_bytes()
    assert b"ESMTPS" in data and b"ESMTPSA" not in data
    assert b"(using TLSv1.3 with cipher" in data or b"(using TLSv1.2 with cipher" in data
    m.inst.wait_log("Anonymous TLS connection established from unknown[127.0.0.1]: TLSv1")


def test_the_received_header_has_no_tls_clause_by_default(mail):
    m = mail()
    with smtplib.SMTP("127.0.0.1", m.mx, timeout=10) as s:
        s.starttls(context=client_context())
        s.sendmail("a@client.example", ["bob@example.org"], b"Subject: x\r\n\r\nx\r\n")
    data = wait_for(m.queued, what="a queue file")[0].read_bytes()
    assert b"with ESMTPS" in data and b"(using TLS" not in data


def test_commands_pipelined_after_starttls_are_discarded(mail):
    m = mail()
    with socket.create_connection(("127.0.0.1", m.mx), timeout=10) as raw:
        f = raw.makefile("rb")
        assert f.readline().startswith(b"220 ")
        raw.sendall(b"EHLO client.example\r\n")
        read_reply(f)
        # One packet: the RSET must be dropped, not answered after the handshake.
        raw.sendall(b"STARTTLS\r\nRSET\r\n")
        assert f.readline() == b"220 2.0.0 Ready to start TLS\r\n"
        tls = client_context().wrap_socket(raw, server_hostname="mx.example.org")
        tf = tls.makefile("rb")
        tls.sendall(b"EHLO again.example\r\n")
        first = read_reply(tf)
        assert first[0] == b"250-mx.example.org\r\n"  # not RSET's "250 2.0.0 Ok"
        tls.sendall(b"NOOP\r\n")
        assert read_reply(tf) == [b"250 2.0.0 Ok\r\n"]
        tls.close()


def test_submission_requires_starttls_before_mail(mail):
    m = mail()
    with smtplib.SMTP("127.0.0.1", m.submission, timeout=10) as s:
        s.ehlo("client.example")
        assert s.has_extn("starttls")
        assert s.mail("a@client.example") == (530, b"5.7.0 Must issue a STARTTLS command first")
        assert s.docmd("VRFY", "bob")[0] == 530
        assert s.noop()[0] == 250
        s.starttls(context=client_context())
        s.ehlo("client.example")
        assert s.mail("a@client.example")[0] == 250


def test_implicit_tls_on_the_wrapper_mode_port(mail):
    m = mail()
    with smtplib.SMTP_SSL("127.0.0.1", m.submissions, timeout=10,
                          context=client_context()) as s:
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        code, caps = s.ehlo("client.example")
        assert code == 250 and b"STARTTLS" not in caps and b"AUTH PLAIN LOGIN" in caps
        assert s.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
    m.inst.wait_log("TLS connection established from unknown[127.0.0.1]")


def test_plaintext_on_the_wrapper_mode_port_is_a_failed_handshake(mail):
    m = mail()
    with socket.create_connection(("127.0.0.1", m.submissions), timeout=10) as raw:
        raw.sendall(b"EHLO client.example\r\n")
        try:
            answer = raw.recv(4096)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"2")  # a TLS alert or the end, never SMTP
    m.inst.wait_log("SSL_accept error from unknown[127.0.0.1]")


def tls12_context(ciphers):
    ctx = client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    return ctx


def handshake_fingerprint(port, ctx):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.starttls(context=ctx)
        return fingerprint(s.sock)


def pem_fingerprint(path):
    import hashlib
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(path.read_text())).hexdigest()


def test_rsa_and_ecdsa_certificates_from_chain_files(mail, tmp_path):
    d = shared_dir()
    try:
        rsa_cert, rsa_key = make_cert(d, "r", kind="rsa")
        ec_cert, ec_key = make_cert(d, "e", kind="ec")
        # smtpd_tls_chain_files: each file holds a key, then its certificate.
        (d / "rsa-chain.pem").write_text(rsa_key.read_text() + rsa_cert.read_text())
        (d / "ec-chain.pem").write_text(ec_key.read_text() + ec_cert.read_text())
        m = mail(main={"smtpd_tls_chain_files": f"{d}/rsa-chain.pem, {d}/ec-chain.pem"})
        got_rsa = handshake_fingerprint(m.mx, tls12_context("ECDHE-RSA-AES128-GCM-SHA256"))
        got_ec = handshake_fingerprint(m.mx, tls12_context("ECDHE-ECDSA-AES128-GCM-SHA256"))
        assert got_rsa == pem_fingerprint(rsa_cert)
        assert got_ec == pem_fingerprint(ec_cert)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_protocol_limits_follow_smtpd_tls_protocols(mail):
    old_client = client_context()
    old_client.maximum_version = ssl.TLSVersion.TLSv1_2
    m = mail(mx_args="-o smtpd_tls_protocols=>=TLSv1.3")
    with smtplib.SMTP("127.0.0.1", m.mx, timeout=10) as s:
        with pytest.raises((ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected)):
            s.starttls(context=old_client)
    # The default (>=TLSv1.2) lets the same client in on submission.
    with smtplib.SMTP("127.0.0.1", m.submission, timeout=10) as s:
        s.starttls(context=old_client)
        assert s.sock.version() == "TLSv1.2"


def test_a_certificate_replaced_on_disk_is_used_by_new_sessions(mail):
    m = mail()
    first = handshake_fingerprint(m.mx, client_context())
    assert first == pem_fingerprint(m.cert)
    # An old session stays up across the renewal.
    old = smtplib.SMTP("127.0.0.1", m.mx, timeout=10)
    old.starttls(context=client_context())
    # Renew as certbot does: new files written aside, then renamed over the old.
    new_cert, new_key = make_cert(m.files, "renewed", cn="mx.example.org")
    new_key.rename(m.key)
    new_cert.rename(m.cert)
    second = handshake_fingerprint(m.mx, client_context())
    assert second == pem_fingerprint(m.cert) and second != first
    assert old.noop()[0] == 250 and fingerprint(old.sock) == first
    old.quit()
    assert "reload" not in m.inst.log()


def test_wrapper_mode_without_a_certificate_stops_the_service_with_a_clear_line(tmp_path):
    from instance import BUILD, Instance
    port = free_port()
    inst = Instance(tmp_path / "inst", {"daemon_directory": str(BUILD / "bin")},
                    [f"127.0.0.1:{port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"])
    try:
        inst.start()
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            inst.wait_log("smtpd_tls_wrappermode = yes needs a certificate")
    finally:
        assert not inst.teardown()
