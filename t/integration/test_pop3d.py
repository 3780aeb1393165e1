"""pop3d under master on loopback ports, with the auth service, driven with
Python's poplib, raw sockets and fetchmail.

The instance has a POP3 port (110: STLS, plaintext refused before it), a
POP3S port (995: implicit TLS) and auth. Most tests put mail into the
virtual users' Maildirs the way another delivery program would: with
Python's own mailbox.Maildir (names without ,S=/,W=, so pop3d's store has to
size them itself). The last tests run the whole path instead (smtpd, qmgr,
local) or local alone, to show that delivery and pop3d find the same
mailbox.

Run as root, the real identities apply: pop3d starts as root, serves the
network as the mail owner (nobody) and becomes the mailbox owner (uid and
gid 5000 from virtual_uid_maps/virtual_gid_maps) after the login; the mail
store lives in a directory that uid 5000 can reach.
"""
import json
import mailbox
import os
import pathlib
import poplib
import pwd
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import uuid

import pytest

from instance import BUILD, Instance, free_port, wait_for

ROOT = os.geteuid() == 0
VUID = 5000
USERS = {"alice@example.org": "alice pw", "bob@example.org": "b0b",
         "carol@example.org": "no mailbox"}  # carol has a password but no mailbox

MESSAGES = [
    b"From: carol@example.net\nTo: alice@example.org\nSubject: one\n\nfirst body\n",
    b"From: carol@example.net\r\nSubject: two\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n"
    b"line\r\n",
    b"Subject: three\n\n" + "8bit caf\u00e9 \u00fcber\n".encode() + (b"x" * 70 + b"\n") * 80 + b"\nend\n",
]


def crlf(data):
    """The message as POP3 sends it, without stuffing: every line end CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def make_cert(directory):
    cert, key = directory / "pop.pem", directory / "pop.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                    "-subj", "/CN=pop.example.org", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def crypt_hash(password):
    r = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n",
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class PopSystem:
    def __init__(self, root, main=None, auth=True, local=False, users=None, smtp=False):
        self.root = pathlib.Path(root)
        self.users = dict(USERS, **(users or {}))
        # Files the daemons and uid 5000 must reach (tmp_path's parents are 0700).
        self.files = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-pop3-"))
        self.files.chmod(0o755)
        self.cert, self.key = make_cert(self.files)
        self.base = self.files / "mail"
        (self.base / "example.org").mkdir(parents=True)
        (self.files / "passwd").write_text(
            "".join(f"{u} {crypt_hash(p)}\n" for u, p in self.users.items()))
        (self.files / "vmailbox").write_text(
            "alice@example.org example.org/alice/\nbob@example.org example.org/bob/\n")
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.pop3, self.pop3s, self.smtp = sorted(ports)
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "pop.example.org",
            "mydestination": "localhost",
            "virtual_mailbox_domains": "example.org",
            "virtual_mailbox_maps": f"texthash:{self.files / 'vmailbox'}",
            "virtual_mailbox_base": str(self.base),
            "auth_password_maps": f"texthash:{self.files / 'passwd'}",
            "auth_failure_delay": "0s",
            "pop3_tls_cert_file": str(self.cert),
            "pop3_tls_key_file": str(self.key),
        }
        if ROOT:
            settings["virtual_uid_maps"] = f"static:{VUID}"
            settings["virtual_gid_maps"] = f"static:{VUID}"
            self.chown(self.base / "example.org")
        settings.update(main or {})
        services = [
            f"127.0.0.1:{self.pop3} inet n n n - - pop3d",
            f"127.0.0.1:{self.pop3s} inet n n n - - pop3d -o pop3_tls_wrappermode=yes",
        ]
        if auth:
            services.append("auth unix - - n - - auth")
        if local or smtp:  # the delivery agent (without qmgr: driven by deliver_request)
            services += ["local unix - n n - - local", "virtual unix - n n - - local"]
        if smtp:  # the whole path: smtpd, the queue, qmgr, virtual delivery
            services += [f"127.0.0.1:{self.smtp} inet n - n - - smtpd",
                         "qmgr unix n - n 300 1 qmgr"]
        self.inst = Instance(self.root, settings, services)

    @staticmethod
    def chown(path):
        if ROOT:
            for p in [path, *path.rglob("*")]:
                os.chown(p, VUID, VUID)

    def maildir(self, user):
        return self.base / "example.org" / user.split("@")[0]

    def deliver(self, user, *messages):
        """Puts messages into the user's Maildir (new/) as another program would."""
        md = mailbox.Maildir(self.maildir(user), create=True)
        keys = [md.add(mailbox.MaildirMessage(m)) for m in messages]
        self.chown(self.maildir(user))
        return keys

    def files_in(self, user):
        d = self.maildir(user)
        return sorted(p.name for sub in ("new", "cur") if (d / sub).is_dir()
                      for p in (d / sub).iterdir())

    def start(self):
        self.inst.start()
        return self

    def teardown(self):
        try:
            return self.inst.teardown()
        finally:
            shutil.rmtree(self.files, ignore_errors=True)

    # --- clients ------------------------------------------------------------
    def stls(self, user="alice@example.org", password=None):
        p = poplib.POP3("127.0.0.1", self.pop3, timeout=15)
        p.stls(client_context())
        if user:
            p.user(user)
            p.pass_(password if password is not None else self.users[user])
        return p

    def deliver_with_local(self, rcpt, message, transport):
        """One delivery by the local agent, as qmgr would ask for it."""
        wait_for(lambda: (self.inst.dir / "spool" / "private" / transport).exists(),
                 what="the delivery agent's socket")
        args = [str(BUILD / "t" / "progs" / "deliver_request"), "-q", str(self.inst.dir / "spool"),
                "-s", str(self.inst.dir / "spool" / "private" / transport), "-t", transport,
                "-f", "carol@example.net", "-r", rcpt]
        r = subprocess.run(args, input=message, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        result = json.loads(r.stdout)["results"][0]
        assert result["status"] == "sent", result

    def pop3s_login(self, user="alice@example.org"):
        p = poplib.POP3_SSL("127.0.0.1", self.pop3s, timeout=15, context=client_context())
        p.user(user)
        p.pass_(USERS[user])
        return p

    def pop3d_pids(self):
        out = []
        for pid in self.inst.children():
            try:
                if os.readlink(f"/proc/{pid}/exe").endswith("/pop3d"):
                    out.append(pid)
            except OSError:
                pass
        return out


@pytest.fixture
def pop(tmp_path):
    made = []

    def make(auth=True, local=False, users=None, smtp=False, **main):
        m = PopSystem(tmp_path / f"inst{len(made)}", main, auth, local, users, smtp)
        made.append(m)
        return m.start()
    yield make
    left = []
    for m in made:
        left += m.teardown()
    assert not left, f"processes left behind: {left}"


def test_list_and_retrieve_byte_exact_over_stls(pop):
    m = pop()
    m.deliver("alice@example.org", *MESSAGES)
    p = m.stls()
    count, size = p.stat()
    assert count == 3
    assert size == sum(len(crlf(x)) for x in MESSAGES)
    resp, listing, _ = p.list()
    assert [line.split() for line in listing] == \
        [[str(i + 1).encode(), str(len(crlf(x))).encode()] for i, x in enumerate(MESSAGES)]
    for i, msg in enumerate(MESSAGES, 1):
        resp, lines, octets = p.retr(i)
        assert resp == f"+OK {len(crlf(msg))} octets".encode()
        assert b"\r\n".join(lines) + b"\r\n" == crlf(msg)
        assert octets == len(crlf(msg))  # poplib counts the unstuffed lines with CRLF
    assert p.quit().startswith(b"+OK")
    # Nothing was deleted, nothing marked: the files are where they were.
    assert len(m.files_in("alice@example.org")) == 3
    assert all(n in os.listdir(m.maildir("alice@example.org") / "new")
               for n in m.files_in("alice@example.org"))


def test_dot_stuffing_on_the_wire(pop):
    m = pop()
    m.deliver("alice@example.org", MESSAGES[1])
    with socket.create_connection(("127.0.0.1", m.pop3s), timeout=15) as raw:
        s = client_context().wrap_socket(raw)
        f = s.makefile("rb")
        assert f.readline().startswith(b"+OK")
        user, pw = "alice@example.org", USERS["alice@example.org"]
        s.sendall(f"USER {user}\r\nPASS {pw}\r\nRETR 1\r\nQUIT\r\n".encode())
        got = f.read()
    assert got == (b"+OK\r\n+OK Logged in\r\n+OK %d octets\r\n"
                   b"From: carol@example.net\r\nSubject: two\r\n\r\n..leading dot\r\n"
                   b"...two dots\r\n..\r\nline\r\n.\r\n+OK Logging out\r\n"
                   % len(crlf(MESSAGES[1])))


def test_top(pop):
    m = pop()
    m.deliver("alice@example.org", MESSAGES[0])
    p = m.pop3s_login()
    resp, lines, _ = p.top(1, 0)
    assert lines == [b"From: carol@example.net", b"To: alice@example.org", b"Subject: one", b""]
    resp, lines, _ = p.top(1, 5)
    assert lines[-1] == b"first body"
    p.quit()


def test_uidl_is_stable_and_is_the_imap_identity(pop):
    m = pop()
    m.deliver("alice@example.org", *MESSAGES[:2])
    p = m.pop3s_login()
    first = dict(line.split() for line in p.uidl()[1])
    p.quit()
    m.deliver("alice@example.org", MESSAGES[2])
    p = m.pop3s_login()
    second = dict(line.split() for line in p.uidl()[1])
    assert p.uidl(1).split()[-1] == first[b"1"]
    p.quit()
    assert second[b"1"] == first[b"1"] and second[b"2"] == first[b"2"]
    assert len(set(second.values())) == 3
    # UIDVALIDITY.UID as lib/mailstore keeps them for IMAP (posthorn-uidlist).
    lines = (m.maildir("alice@example.org") / "posthorn-uidlist").read_text().splitlines()
    validity = lines[0].split()[2]
    uids = [line.split()[0] for line in lines[1:]]
    assert sorted(second.values()) == sorted(f"{validity}.{u}".encode() for u in uids)


def test_dele_then_quit_removes(pop):
    m = pop()
    m.deliver("alice@example.org", *MESSAGES)
    before = m.files_in("alice@example.org")
    p = m.stls()
    uid2 = p.uidl(2).split()[-1]
    assert p.dele(2).startswith(b"+OK")
    with pytest.raises(poplib.error_proto, match="deleted"):
        p.retr(2)
    assert p.stat()[0] == 2
    # Not removed before QUIT.
    assert m.files_in("alice@example.org") == before
    p.quit()
    after = m.files_in("alice@example.org")
    assert len(after) == 2
    p = m.stls()
    assert uid2 not in [line.split()[1] for line in p.uidl()[1]]
    p.quit()


def test_dele_then_rset_then_quit_keeps(pop):
    m = pop()
    m.deliver("alice@example.org", *MESSAGES)
    before = m.files_in("alice@example.org")
    p = m.stls()
    p.dele(1)
    p.dele(3)
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 3
    p.quit()
    assert m.files_in("alice@example.org") == before


def test_dele_without_quit_keeps(pop):
    m = pop()
    m.deliver("alice@example.org", *MESSAGES)
    before = m.files_in("alice@example.org")
    p = m.stls()
    p.dele(1)
    p.file.close()  # the client goes away: no UPDATE state
    p.sock.close()
    m.inst.wait_log("disconnect from unknown[127.0.0.1] login=alice@example.org retrieved=0 deleted=0")
    assert m.files_in("alice@example.org") == before


def test_pop3s_implicit_tls(pop):
    m = pop()
    m.deliver("bob@example.org", MESSAGES[0])
    p = m.pop3s_login("bob@example.org")
    assert p.stat() == (1, len(crlf(MESSAGES[0])))
    capa = p.capa()
    assert "STLS" not in capa and "USER" not in capa  # TRANSACTION: no login capabilities
    p.quit()
    m.inst.wait_log("TLS connection established from unknown[127.0.0.1]")


def test_capa_and_plaintext_refused_before_stls(pop):
    m = pop()
    p = poplib.POP3("127.0.0.1", m.pop3, timeout=15)
    capa = p.capa()
    assert "STLS" in capa and "USER" not in capa and "SASL" not in capa
    assert {"TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"} <= set(capa)
    with pytest.raises(poplib.error_proto) as e:
        p.user("alice@example.org")
    assert e.value.args[0] == (b"-ERR [AUTH] Plaintext authentication disallowed on "
                               b"non-secure connections")
    p.stls(client_context())
    capa = p.capa()
    assert "STLS" not in capa and "USER" in capa and capa["SASL"] == ["PLAIN", "LOGIN"]
    p.user("alice@example.org")
    assert p.pass_(USERS["alice@example.org"]).startswith(b"+OK")
    p.quit()


def test_plaintext_allowed_when_configured(pop):
    m = pop(pop3_plaintext_auth="yes")
    m.deliver("alice@example.org", MESSAGES[0])
    p = poplib.POP3("127.0.0.1", m.pop3, timeout=15)
    assert "USER" in p.capa()
    p.user("alice@example.org")
    p.pass_(USERS["alice@example.org"])
    assert p.stat()[0] == 1
    p.quit()


def test_auth_plain(pop):
    m = pop()
    m.deliver("alice@example.org", MESSAGES[0])
    import base64
    token = base64.b64encode(b"\0alice@example.org\0" + USERS["alice@example.org"].encode())
    with socket.create_connection(("127.0.0.1", m.pop3s), timeout=15) as raw:
        s = client_context().wrap_socket(raw)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"AUTH PLAIN\r\n")
        assert f.readline() == b"+ \r\n"
        s.sendall(token + b"\r\nSTAT\r\nQUIT\r\n")
        assert f.read() == (b"+OK Logged in\r\n+OK 1 %d\r\n+OK Logging out\r\n"
                            % len(crlf(MESSAGES[0])))


def test_bad_password_then_limit(pop):
    m = pop()
    p = m.stls(user=None)
    for attempt in range(2):
        p.user("alice@example.org")
        with pytest.raises(poplib.error_proto) as e:
            p.pass_("Wr0ng-Secret")
        assert e.value.args[0] == b"-ERR [AUTH] Authentication failed"
    p.user("alice@example.org")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("Wr0ng-Secret")
    assert e.value.args[0] == b"-ERR [AUTH] Authentication failed; too many failures, closing"
    assert p.file.readline() == b""  # the server closed the connection
    m.inst.wait_log("POP3 login failed for alice@example.org")
    assert "Wr0ng-Secret" not in m.inst.log()  # passwords are never logged
    # An unknown user is told exactly the same.
    q = m.stls(user=None)
    q.user("nobody@example.org")
    with pytest.raises(poplib.error_proto) as e:
        q.pass_("x")
    assert e.value.args[0] == b"-ERR [AUTH] Authentication failed"
    q.quit()


def test_login_without_a_mailbox_is_sys_perm(pop):
    m = pop()
    p = m.stls(user=None)
    p.user("carol@example.org")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(USERS["carol@example.org"])
    assert e.value.args[0] == b"-ERR [SYS/PERM] Mailbox is not available"
    m.inst.wait_log("login=carol@example.org mailbox not opened: "
                    "no virtual mailbox for \"carol@example.org\"")


def test_auth_service_down_is_sys_temp(pop):
    m = pop(auth=False)
    p = m.stls(user=None)
    p.user("alice@example.org")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(USERS["alice@example.org"])
    assert e.value.args[0] == b"-ERR [SYS/TEMP] Authentication service unavailable; try again later"
    # Not counted as a failed login: the session goes on.
    assert p.capa()
    p.quit()


def test_second_session_is_in_use(pop):
    m = pop()
    m.deliver("alice@example.org", MESSAGES[0])
    first = m.stls()
    assert first.stat()[0] == 1
    second = m.stls(user=None)
    second.user("alice@example.org")
    with pytest.raises(poplib.error_proto) as e:
        second.pass_(USERS["alice@example.org"])
    assert e.value.args[0] == b"-ERR [IN-USE] Mailbox is locked by another POP3 session"
    # Another user is not affected.
    m.deliver("bob@example.org", MESSAGES[1])
    other = m.pop3s_login("bob@example.org")
    assert other.stat()[0] == 1
    other.quit()
    first.quit()
    third = m.stls()  # the lock went with the first session
    assert third.stat()[0] == 1
    third.quit()


def uid_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None


def ids_of(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = {line.split(":")[0]: line.split()[1:] for line in f}
    return [int(x) for x in fields["Uid"]], [int(x) for x in fields["Gid"]], fields["Groups"]


@pytest.mark.skipif(not ROOT, reason="identities change only when started as root")
def test_session_runs_as_the_mailbox_owner_after_login(pop):
    import pwd
    nobody = pwd.getpwnam("nobody")
    m = pop()
    m.deliver("alice@example.org", MESSAGES[0])
    p = poplib.POP3("127.0.0.1", m.pop3, timeout=15)
    p.capa()
    # Before the login: the network is served as the mail owner, root only saved.
    (pid,) = wait_for(lambda: m.pop3d_pids(), what="a pop3d process")
    uids, gids, groups = ids_of(pid)
    assert uids == [nobody.pw_uid, nobody.pw_uid, 0, nobody.pw_uid]
    assert gids == [nobody.pw_gid] * 4 and groups == []
    p.stls(client_context())
    p.user("alice@example.org")
    p.pass_(USERS["alice@example.org"])
    uids, gids, groups = ids_of(pid)
    assert uids == [VUID] * 4 and gids == [VUID] * 4 and groups == []
    p.quit()
    wait_for(lambda: pid not in m.pop3d_pids(), what="the session's process to exit")


def test_one_session_per_process(pop):
    m = pop()
    a = m.stls(user=None)
    b = m.stls(user=None)
    pids = wait_for(lambda: len(m.pop3d_pids()) >= 2 and m.pop3d_pids(), what="two pop3d")
    assert len(pids) == 2
    a.quit()
    b.quit()


def fetchmail(m, home, keep, extra=()):
    rc = home / "fetchmailrc"
    out = home / "fetched.mbox"
    rc.write_text(
        f"set no syslog\n"
        f"poll 127.0.0.1 service {m.pop3s} protocol pop3 uidl\n"
        f"  user 'alice@example.org' there with password '{USERS['alice@example.org']}'"
        f" is 'root' here\n"
        f"  ssl no sslcertck\n"
        f"  {'keep' if keep else 'nokeep'}\n"
        f"  mda \"/bin/sh -c 'cat >> {out}'\"\n")
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(home), FETCHMAILHOME=str(home))
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nodetach", "--nosyslog", *extra],
                       env=env, capture_output=True, text=True, timeout=60)
    return r, out


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail is not installed")
def test_fetchmail_keep_then_nokeep(pop, tmp_path):
    m = pop()
    m.deliver("alice@example.org", *MESSAGES)
    home = tmp_path / "fm"
    home.mkdir()
    r, out = fetchmail(m, home, keep=True)
    assert r.returncode == 0, r.stdout + r.stderr
    data = out.read_bytes()
    for msg in MESSAGES:
        body = msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
        assert body in data
    assert len(m.files_in("alice@example.org")) == 3  # kept on the server
    # Keep mode with UIDL: a second run finds nothing new (exit 1: no mail).
    r, out = fetchmail(m, home, keep=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert out.read_bytes() == data
    # No-keep: fetched (all, with the UIDL file gone) and removed at QUIT.
    (home / ".fetchids").unlink()
    out.unlink()
    r, out = fetchmail(m, home, keep=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.read_bytes().count(b"Subject: ") == 3
    assert m.files_in("alice@example.org") == []


def test_mail_delivered_by_local_is_what_pop3d_serves(pop):
    """Delivery and access agree on where the mailbox is (lib/access)."""
    m = pop(local=True)
    m.deliver_with_local("alice@example.org", MESSAGES[1], "virtual")
    files = [p for sub in ("new", "cur") for p in (m.maildir("alice@example.org") / sub).iterdir()]
    assert len(files) == 1
    stored = files[0].read_bytes()
    assert stored.startswith(b"Return-Path: <carol@example.net>\n")
    p = m.pop3s_login()
    resp, lines, octets = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == crlf(stored)
    assert p.list(1) == f"+OK 1 {len(crlf(stored))}".encode()
    p.quit()


@pytest.fixture
def system_user():
    """A temporary system account with a home directory anyone may enter."""
    made, homes = [], []

    def make():
        name = f"php{uuid.uuid4().hex[:8]}"
        home = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-home-"))
        home.chmod(0o755)
        r = subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", name],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        made.append(name)
        homes.append(home)
        pw = pwd.getpwnam(name)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        return pw
    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)
    for home in homes:
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.skipif(not ROOT, reason="needs root to create an account and to switch to it")
def test_system_account_reads_its_home_maildir_as_itself(pop, system_user):
    user = system_user()
    m = pop(local=True, users={user.pw_name: "sys pw"}, home_mailbox="Maildir/",
            alias_maps="", forward_path="")
    m.deliver_with_local(f"{user.pw_name}@localhost", MESSAGES[0], "local")
    maildir = pathlib.Path(user.pw_dir) / "Maildir"
    assert os.stat(maildir).st_uid == user.pw_uid
    p = m.stls(user=user.pw_name)
    assert p.stat()[0] == 1
    (pid,) = [q for q in m.pop3d_pids() if uid_of(q) == user.pw_uid]
    uids, gids, groups = ids_of(pid)
    assert uids == [user.pw_uid] * 4 and gids == [user.pw_gid] * 4
    assert b"first body" in b"\r\n".join(p.retr(1)[1])
    p.dele(1)
    p.quit()
    assert os.listdir(maildir / "new") + os.listdir(maildir / "cur") == []


def test_mail_sent_through_smtp_is_downloaded_byte_exact(pop, tmp_path):
    """smtpd -> queue -> qmgr -> virtual delivery -> pop3d, then fetchmail."""
    m = pop(smtp=True)
    bodies = [b"first\r\n.dot line\r\nend\r\n", b"second\r\n\r\n..two\r\n", b"third\r\n"]
    with smtplib.SMTP("127.0.0.1", m.smtp, timeout=15) as s:
        for i, body in enumerate(bodies):
            msg = (f"From: carol@example.net\r\nTo: alice@example.org\r\nSubject: smtp {i}\r\n\r\n"
                   .encode() + body)
            assert s.sendmail("carol@example.net", ["alice@example.org"], msg) == {}
    wait_for(lambda: len(m.files_in("alice@example.org")) == 3, 20, "three deliveries")
    stored = {}
    for sub in ("new", "cur"):
        for f in (m.maildir("alice@example.org") / sub).iterdir():
            data = f.read_bytes()
            stored[data.split(b"Subject: ")[1].split(b"\n")[0]] = data
    p = m.stls()
    count, size = p.stat()
    assert count == 3 and size == sum(len(crlf(d)) for d in stored.values())
    for n in range(1, 4):
        resp, lines, octets = p.retr(n)
        got = b"\r\n".join(lines) + b"\r\n"
        subject = got.split(b"Subject: ")[1].split(b"\r\n")[0]
        assert got == crlf(stored[subject])
        assert got.endswith(bodies[int(subject.split()[1])])  # the body as sent, unstuffed
    p.quit()
    home = tmp_path / "fm"
    home.mkdir()
    r, out = fetchmail(m, home, keep=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.read_bytes().count(b"Subject: smtp ") == 3
    assert m.files_in("alice@example.org") == []
