"""Helpers shared by test_smtpd_tls.py and test_auth.py: certificates made
with the openssl command, password tables made with `posthorn auth hash`,
and an instance with the three SMTP services of conf/master.cf (MX,
submission with STARTTLS required, submissions with implicit TLS) and the
auth service, on free loopback ports.

Run as root, the daemons drop to `nobody`; files they must read after the
drop (a certificate replaced while smtpd runs) live in a directory anyone
may enter, made by shared_dir().
"""
import hashlib
import os
import pathlib
import shutil
import smtplib
import ssl
import subprocess
import tempfile

from instance import BUILD, Instance, free_port


def shared_dir():
    """A fresh directory that `nobody` can reach (tmp_path's parents cannot)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-tls-"))
    d.chmod(0o755)
    return d


def make_cert(directory, name, cn="mx.example.org", kind="rsa"):
    """Writes NAME.pem and NAME.key (self-signed, readable by all: test keys)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-days", "30",
                    "-subj", f"/CN={cn}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o644)
    return cert, key


def hash_password(password, scheme=None):
    args = [str(BUILD / "bin" / "posthorn"), "auth", "hash"]
    if scheme:
        args += ["--scheme", scheme]
    r = subprocess.run(args, input=password + "\n", capture_output=True, text=True, check=True)
    return r.stdout.strip()


def write_passwords(path, users):
    """A texthash table: login -> hash made by `posthorn auth hash`."""
    path.write_text("".join(f"{login} {hash_password(pw)}\n" for login, pw in users.items()))
    return path


def fingerprint(ssl_sock):
    return hashlib.sha256(ssl_sock.getpeercert(binary_form=True)).hexdigest()


def client_context():
    """A TLS client context that takes the test's self-signed certificates."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class MailSystem:
    """An instance with mx (25), submission (587) and submissions (465)
    services on free ports, and the auth service."""

    def __init__(self, root, main=None, users=None, mx_args="", auth=True):
        self.root = pathlib.Path(root)
        self.files = shared_dir()
        self.cert, self.key = make_cert(self.files, "rsa")
        ports = set()
        while len(ports) < 3:  # free_port() may give the same port twice
            ports.add(free_port())
        self.mx, self.submission, self.submissions = sorted(ports)
        self.passwd = write_passwords(self.files / "passwd",
                                      users if users is not None else {"bob": "s3cret"})
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "mx.example.org",
            "mydestination": "example.org",
            "smtpd_tls_cert_file": str(self.cert),
            "smtpd_tls_key_file": str(self.key),
            "auth_password_maps": f"texthash:{self.passwd}",
            "auth_failure_delay": "0s",
        }
        settings.update(main or {})
        services = [
            f"127.0.0.1:{self.mx} inet n - n - - smtpd {mx_args}".rstrip(),
            f"127.0.0.1:{self.submission} inet n - n - - smtpd"
            " -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes"
            " -o smtpd_tls_auth_only=yes"
            " -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
            f"127.0.0.1:{self.submissions} inet n - n - - smtpd"
            " -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes"
            " -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
        ]
        if auth:
            services.append("auth unix - - n - - auth")
        self.inst = Instance(self.root, settings, services)

    def start(self):
        self.inst.start()
        return self

    def teardown(self):
        try:
            return self.inst.teardown()
        finally:
            shutil.rmtree(self.files, ignore_errors=True)

    def queued(self):
        d = self.inst.dir / "spool" / "incoming"
        return sorted(p for p in d.iterdir() if p.is_file()) if d.exists() else []

    def submit(self, timeout=10):
        """smtplib on submission, after EHLO and STARTTLS."""
        s = smtplib.SMTP("127.0.0.1", self.submission, timeout=timeout)
        s.ehlo("client.example")
        s.starttls(context=client_context())
        s.ehlo("client.example")
        return s

    def auth_pids(self):
        """The running auth processes (master's children running build/bin/auth)."""
        out = []
        for pid in self.inst.children():
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            if exe.endswith("/auth"):
                out.append(pid)
        return out
