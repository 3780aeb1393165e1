"""imapd under master on loopback ports, with the auth service, driven with
Python's imaplib and raw sockets.

The instance has an IMAP port (143: STARTTLS, plaintext logins refused
before it), an IMAPS port (993: implicit TLS) and auth. Mail is put into the
virtual users' Maildirs the way another delivery program would, with
Python's mailbox.Maildir (names without ,S=/,W=), or through lib/mailstore
by imapd itself (APPEND).

Run as root, the real identities apply: imapd starts as root, serves the
network as the mail owner (nobody) and becomes the mailbox owner (uid and
gid 5000 from virtual_uid_maps/virtual_gid_maps) after the login; local
delivers as that owner too.
"""
import email
import imaplib
import mailbox
import os
import pathlib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from instance import BUILD, Instance, free_port, wait_for

ROOT = os.geteuid() == 0
VUID = 5000
USERS = {"alice@example.org": "alice pw", "bob@example.org": "b0b",
         "carol@example.org": "no mailbox"}  # carol has a password but no mailbox

MESSAGES = [
    b"From: Carol <carol@example.net>\nTo: alice@example.org\nSubject: one\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\nMessage-ID: <one@example.net>\n\nfirst body\n",
    b"From: carol@example.net\r\nSubject: two\r\nContent-Type: multipart/mixed; boundary=b\r\n"
    b"\r\npreamble\r\n--b\r\nContent-Type: text/plain\r\n\r\npart one\r\n--b\r\n"
    b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"PGI+bmVlZGxlPC9iPg==\r\n--b--\r\n",
    b"Subject: three\n\n" + "8bit caf\u00e9\n".encode() + (b"x" * 70 + b"\n") * 80,
]


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def make_cert(directory):
    cert, key = directory / "imap.pem", directory / "imap.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                    "-subj", "/CN=imap.example.org", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o644)
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


class ImapSystem:
    def __init__(self, root, main=None, smtp=False):
        self.root = pathlib.Path(root)
        # Files the daemons must reach (tmp_path's parents are 0700).
        self.files = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-imap-"))
        self.files.chmod(0o755)
        self.cert, self.key = make_cert(self.files)
        self.base = self.files / "mail"
        (self.base / "example.org").mkdir(parents=True)
        (self.files / "passwd").write_text(
            "".join(f"{u} {crypt_hash(p)}\n" for u, p in USERS.items()))
        (self.files / "vmailbox").write_text(
            "alice@example.org example.org/alice/\nbob@example.org example.org/bob/\n")
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.imap, self.imaps, self.smtp = sorted(ports)
        settings = {
            "daemon_directory": str(BUILD / "bin"),
            "myhostname": "imap.example.org",
            "virtual_mailbox_domains": "example.org",
            "virtual_mailbox_maps": f"texthash:{self.files / 'vmailbox'}",
            "virtual_mailbox_base": str(self.base),
            "auth_password_maps": f"texthash:{self.files / 'passwd'}",
            "auth_failure_delay": "0s",
            "imap_tls_cert_file": str(self.cert),
            "imap_tls_key_file": str(self.key),
            "imap_max_literal": "1048576",
        }
        self.chown(self.base)
        if ROOT:
            settings["virtual_uid_maps"] = f"static:{VUID}"
            settings["virtual_gid_maps"] = f"static:{VUID}"
        settings.update(main or {})
        services = [
            f"127.0.0.1:{self.imap} inet n n n - - imapd",
            f"127.0.0.1:{self.imaps} inet n n n - - imapd -o imap_tls_wrappermode=yes",
            "auth unix - - n - - auth",
        ]
        if smtp:  # mail arrives as it does in production: smtpd, qmgr, virtual
            # (smtpd does not wake qmgr yet: master does, every second)
            settings["queue_run_delay"] = "1s"
            services += [f"127.0.0.1:{self.smtp} inet n - n - - smtpd",
                         "qmgr unix n - n 1 1 qmgr", "virtual unix - n n - - local"]
        self.inst = Instance(self.root, settings, services)

    @staticmethod
    def chown(path):
        if ROOT:
            for p in [path, *path.rglob("*")]:
                os.chown(p, VUID, VUID)

    def maildir(self, user):
        return self.base / "example.org" / user.split("@")[0]

    def deliver(self, user, *messages, folder=None):
        """Puts messages into new/ as another delivery program would."""
        md = mailbox.Maildir(self.maildir(user), create=True)
        if folder:
            md = md.get_folder(folder)
        keys = [md.add(mailbox.MaildirMessage(m)) for m in messages]
        self.chown(self.maildir(user))
        return keys

    def names(self, user, folder=""):
        d = self.maildir(user) / (f".{folder}" if folder else "")
        return sorted(p.name for sub in ("new", "cur") for p in (d / sub).iterdir())

    def start(self):
        self.inst.start()
        return self

    def teardown(self):
        try:
            return self.inst.teardown()
        finally:
            shutil.rmtree(self.files, ignore_errors=True)

    # --- clients ------------------------------------------------------------
    def login(self, user="alice@example.org", password=None):
        """imaplib over IMAPS."""
        m = imaplib.IMAP4_SSL("127.0.0.1", self.imaps, ssl_context=client_context(), timeout=15)
        m.login(user, password if password is not None else USERS[user])
        return m

    def starttls(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap, timeout=15)
        m.starttls(ssl_context=client_context())
        return m

    def raw(self, login="alice@example.org"):
        r = Raw(self.imaps)
        if login:
            assert r.ok(f"LOGIN {login} \"{USERS[login]}\"")
        return r


class Raw:
    """A line-level IMAP client over TLS; reads literals as they come."""

    def __init__(self, port):
        self.sock = client_context().wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=10))
        self.f = self.sock.makefile("rb")
        self.n = 0
        self.greeting = self.line()

    def line(self):
        """One response line, with any literals it announces appended."""
        out = self.f.readline()
        while True:
            m = re.search(rb"\{(\d+)\}\r\n$", out)
            if not m:
                return out
            out += self.f.read(int(m.group(1)))
            out += self.f.readline()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, text):
        """Sends a tagged command; returns (untagged lines, tagged line)."""
        self.n += 1
        tag = f"t{self.n}"
        self.send(f"{tag} {text}\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            line = self.line()
            assert line, "connection closed"
            if line.startswith(tag.encode() + b" "):
                return lines, line
            lines.append(line)

    def ok(self, text):
        return self.cmd(text)[1].split()[1] == b"OK"

    def closed(self):
        try:
            return self.f.readline() == b""
        except (ConnectionError, ssl.SSLError):
            return True

    def close(self):
        self.sock.close()


@pytest.fixture
def imap(tmp_path):
    made = []

    def make(smtp=False, **main):
        m = ImapSystem(tmp_path / f"inst{len(made)}", main, smtp)
        made.append(m)
        return m.start()
    yield make
    left = []
    for m in made:
        log = m.inst.log()
        left += m.teardown()
        assert "panic" not in log and "exception escaped" not in log, log
    assert not left, f"processes left behind: {left}"


def fetch_items(data):
    """imaplib FETCH data as {seq: raw bytes of the response}."""
    out = {}
    for item in data:
        if isinstance(item, tuple):
            seq = int(item[0].split()[0])
            out[seq] = item
    return out


# --- connecting and logging in -------------------------------------------------

def test_greeting_starttls_and_plaintext_refusal(imap):
    m = imap()
    c = imaplib.IMAP4("127.0.0.1", m.imap, timeout=15)
    assert "STARTTLS" in c.capabilities and "LOGINDISABLED" in c.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        c.login("alice@example.org", USERS["alice@example.org"])
    c.starttls(ssl_context=client_context())
    caps = c.capability()[1][0].split()
    assert b"AUTH=PLAIN" in caps and b"STARTTLS" not in caps
    typ, data = c.login("alice@example.org", USERS["alice@example.org"])
    assert typ == "OK"
    caps = c.capability()[1][0].split()
    for cap in (b"IMAP4rev1", b"IDLE", b"UIDPLUS", b"MOVE", b"NAMESPACE", b"LITERAL+",
                b"APPENDLIMIT=1048576", b"UNSELECT", b"ENABLE", b"ID", b"CHILDREN"):
        assert cap in caps
    assert c.logout()[0] == "BYE"
    m.inst.wait_log("login: user=alice@example.org")


def test_implicit_tls_and_authenticate_plain(imap):
    m = imap()
    c = imaplib.IMAP4_SSL("127.0.0.1", m.imaps, ssl_context=client_context(), timeout=15)
    assert "STARTTLS" not in c.capabilities
    typ, _ = c.authenticate("PLAIN", lambda _: b"\0bob@example.org\0" + USERS["bob@example.org"].encode())
    assert typ == "OK"
    assert c.select("INBOX") == ("OK", [b"0"])
    c.logout()


def test_failed_logins_and_missing_mailbox(imap):
    m = imap()
    r = m.raw(login=None)
    for i in range(2):
        _, tagged = r.cmd("LOGIN alice@example.org wrong")
        assert b"NO [AUTHENTICATIONFAILED]" in tagged
    lines, tagged = r.cmd("LOGIN alice@example.org wrong")
    assert b"NO [AUTHENTICATIONFAILED]" in tagged
    assert r.line().startswith(b"* BYE Too many invalid authentication attempts")
    assert r.closed()
    # A password but no mailbox: the login cannot complete, and says why.
    with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
        m.login("carol@example.org")
    m.inst.wait_log("user=carol@example.org: cannot open the mail store")


def uids_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:4]]  # real, effective, saved
    return None


@pytest.mark.skipif(not ROOT, reason="identities change only when started as root")
def test_identities_as_root(imap):
    m = imap()
    waiting = Raw(m.imaps)  # connected, not logged in
    c = m.login()
    c.select("INBOX")

    def imapd_uids():
        out = []
        for pid in m.inst.children():
            try:
                if os.readlink(f"/proc/{pid}/exe").endswith("/imapd"):
                    out.append(uids_of(pid))
            except OSError:
                pass
        return sorted(out)
    # The logged-in session is the mailbox owner for good; the other serves
    # the network as nobody and can still become someone after its login.
    got = wait_for(lambda: (lambda u: u if len(u) >= 2 else None)(imapd_uids()), 10,
                   "two imapd processes")
    assert [VUID, VUID, VUID] in got
    assert [65534, 65534, 0] in got
    owner = {p.stat().st_uid for p in m.maildir("alice@example.org").rglob("*")}
    assert owner == {VUID}
    c.logout()
    waiting.close()


def test_login_timeout(imap):
    m = imap(imap_login_timeout="1s")
    r = Raw(m.imaps)
    assert r.line().startswith(b"* BYE Login timed out")
    assert r.closed()


# --- reading mail -----------------------------------------------------------------

def test_select_and_fetch_byte_exact(imap):
    m = imap()
    m.deliver("alice@example.org", *MESSAGES)
    c = m.login()
    typ, data = c.select("INBOX")
    assert (typ, data) == ("OK", [b"3"])
    assert c.response("RECENT") == ("RECENT", [b"3"])
    typ, data = c.fetch("1:3", "(UID RFC822.SIZE BODY.PEEK[] FLAGS)")
    got = fetch_items(data)
    for i, msg in enumerate(MESSAGES, 1):
        head, body = got[i]
        assert body == crlf(msg)
        assert f"RFC822.SIZE {len(crlf(msg))}".encode() in head
        assert f"UID {i}".encode() in head
    # \Recent is this session's; nothing is \Seen after a PEEK.
    typ, data = c.fetch("1", "FLAGS")
    assert data == [b"1 (FLAGS (\\Recent))"]
    typ, data = c.fetch("1", "(ENVELOPE)")
    assert data[0] == (b'1 (ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "one" '
                       b'(("Carol" NIL "carol" "example.net")) (("Carol" NIL "carol" "example.net")) '
                       b'(("Carol" NIL "carol" "example.net")) ((NIL NIL "alice" "example.org")) '
                       b'NIL NIL NIL "<one@example.net>"))')
    typ, data = c.fetch("2", "(BODYSTRUCTURE)")
    assert data[0] == (b'2 (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 8 1 '
                       b'NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "base64" 20 1 '
                       b'NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))')
    typ, data = c.fetch("2", "(BODY[2] BODY.PEEK[1.MIME] BODY[HEADER.FIELDS (Subject)]<0.9>)")
    assert data[0][1] == b"PGI+bmVlZGxlPC9iPg=="
    # Fetching BODY[] without PEEK set \Seen, and the file name says so.
    assert c.fetch("2", "FLAGS")[1] == [b"2 (FLAGS (\\Seen \\Recent))"]
    assert sum(n.endswith(":2,S") for n in m.names("alice@example.org")) == 1
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    assert len(data) == 3
    # The messages moved from new/ to cur/ and kept their names' identity.
    assert all((m.maildir("alice@example.org") / "cur" / n).exists()
               for n in m.names("alice@example.org"))
    c.logout()


def test_search(imap):
    m = imap()
    m.deliver("alice@example.org", *MESSAGES)
    c = m.login()
    c.select("INBOX")
    assert c.search(None, "ALL") == ("OK", [b"1 2 3"])
    assert c.search(None, "SUBJECT", "two") == ("OK", [b"2"])
    assert c.search(None, "BODY", "needle") == ("OK", [b"2"])  # base64 decoded
    assert c.search(None, "FROM", "carol", "NOT", "SUBJECT", "one") == ("OK", [b"2"])
    assert c.search(None, "SENTON", "7-Feb-1994") == ("OK", [b"1"])
    assert c.search(None, "LARGER", "1000") == ("OK", [b"3"])
    assert c.search(None, "OR", "SUBJECT", "one", "SUBJECT", "three") == ("OK", [b"1 3"])
    assert c.uid("SEARCH", "UID", "2:*") == ("OK", [b"2 3"])
    assert c.search("UTF-8", "BODY", "caf\u00e9".encode()) == ("OK", [b"3"])
    c.logout()


# --- changing mail ------------------------------------------------------------------

def test_append_store_expunge(imap):
    m = imap()
    c = m.login()
    date = imaplib.Time2Internaldate(time.mktime((2020, 5, 17, 10, 0, 0, 0, 0, -1)))
    typ, data = c.append("INBOX", r"(\Seen $Label1)", date, MESSAGES[0])
    assert typ == "OK"
    assert re.match(rb"\[APPENDUID \d+ 1\]", data[0])
    for msg in MESSAGES[1:]:
        assert c.append("INBOX", None, None, msg)[0] == "OK"
    c.select("INBOX")
    assert c.fetch("1", "(FLAGS INTERNALDATE)")[1][0] == \
        f'1 (FLAGS (\\Seen $Label1) INTERNALDATE {date})'.encode()
    # imaplib sends CRLF line ends; the file holds what was sent.
    assert c.fetch("1", "BODY.PEEK[]")[1][0][1] == crlf(MESSAGES[0])
    cur = m.maildir("alice@example.org") / "cur"
    assert crlf(MESSAGES[0]) in [(cur / n).read_bytes() for n in os.listdir(cur)]
    typ, data = c.store("2:3", "+FLAGS", r"(\Deleted \Flagged)")
    assert data == [b"2 (FLAGS (\\Flagged \\Deleted))", b"3 (FLAGS (\\Flagged \\Deleted))"]
    assert c.store("3", "-FLAGS", r"\Deleted")[1] == [b"3 (FLAGS (\\Flagged))"]
    names = m.names("alice@example.org")
    assert sorted(n.split(":2,")[1] for n in names) == ["F", "FT", "Sa"]
    assert c.expunge() == ("OK", [b"2"])
    assert c.search(None, "ALL") == ("OK", [b"1 2"])
    assert c.uid("FETCH", "1:*", "UID")[1] == [b"1 (UID 1)", b"2 (UID 3)"]
    assert c.uid("STORE", "3", "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert c.uid("EXPUNGE", "3")[0] == "OK"
    assert c.response("EXPUNGE") == ("EXPUNGE", [b"2"])
    assert len(m.names("alice@example.org")) == 1
    assert c.close()[0] == "OK"
    typ, data = c.append("Nowhere", None, None, b"Subject: x\r\n\r\nx\r\n")
    assert typ == "NO" and data[0].startswith(b"[TRYCREATE]")
    c.logout()


def test_copy_move_and_mailboxes(imap):
    m = imap()
    m.deliver("alice@example.org", *MESSAGES)
    c = m.login()
    assert c.create("Archive.2024")[0] == "OK"
    assert (m.maildir("alice@example.org") / ".Archive.2024" / "cur").is_dir()
    # A new user's first login made the special-use folders (RFC 6154).
    assert c.create("Sent")[0] == "NO"
    typ, data = c.list()
    assert data == [b'(\\Noselect \\HasChildren) "." "Archive"',
                    b'(\\HasNoChildren) "." "Archive.2024"', b'(\\HasNoChildren \\Drafts) "." "Drafts"',
                    b'(\\HasNoChildren) "." "INBOX"', b'(\\HasNoChildren \\Junk) "." "Junk"',
                    b'(\\HasNoChildren \\Sent) "." "Sent"', b'(\\HasNoChildren \\Trash) "." "Trash"']
    assert c.unsubscribe("Junk")[0] == "OK"
    assert c.lsub()[1] == [b'() "." "Drafts"', b'() "." "Sent"', b'() "." "Trash"']
    c.select("INBOX")
    typ, data = c.copy("1:2", "Sent")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1:2 1:2\]", data[0])
    typ, data = c.uid("MOVE", "3", "Archive.2024")
    assert typ == "OK"
    assert re.search(rb"\[COPYUID \d+ 3 1\]", c.untagged_responses.get("OK", [b""])[-1])
    assert c.select("INBOX") == ("OK", [b"2"])
    assert c.status("Sent", "(MESSAGES UIDNEXT UNSEEN)") == \
        ("OK", [b'"Sent" (MESSAGES 2 UIDNEXT 3 UNSEEN 2)'])
    assert c.rename("Archive.2024", "Old.2024")[0] == "OK"
    assert c.status("Old.2024", "(MESSAGES)")[1] == [b'"Old.2024" (MESSAGES 1)']
    assert c.delete("Old.2024")[0] == "OK"
    assert c.status("Old.2024", "(MESSAGES)")[0] == "NO"
    for bad in ("../../etc", "a/b", "&Jjo"):
        assert c.create(bad)[0] == "NO"
    assert not (m.base / "etc").exists()
    # A hard link, not a copy: the octets exist once.
    inbox = m.maildir("alice@example.org") / "cur"
    sent = m.maildir("alice@example.org") / ".Sent" / "cur"
    assert {os.stat(inbox / n).st_ino for n in os.listdir(inbox)} == \
        {os.stat(sent / n).st_ino for n in os.listdir(sent)}
    c.logout()


# --- several sessions -----------------------------------------------------------------

def test_two_sessions_see_each_others_changes(imap):
    m = imap()
    m.deliver("alice@example.org", *MESSAGES)
    a, b = m.raw(), m.raw()
    assert a.ok("SELECT INBOX") and b.ok("SELECT INBOX")
    assert b.ok("STORE 1 +FLAGS (\\Flagged)")
    lines, tagged = a.cmd("NOOP")
    assert lines == [b"* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\n"]
    assert b.ok("STORE 2 +FLAGS (\\Deleted)") and b.ok("EXPUNGE")
    # FETCH must not announce the EXPUNGE; NOOP then does.
    lines, tagged = a.cmd("FETCH 3 UID")
    assert lines == [b"* 3 FETCH (UID 3)\r\n"]
    lines, tagged = a.cmd("NOOP")
    assert lines == [b"* 2 EXPUNGE\r\n"]
    # b appends; a sees it.
    msg = b"Subject: from b\r\n\r\nhi\r\n"
    b.send(f"x APPEND INBOX {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
    assert b.until("x")[1].startswith(b"x OK [APPENDUID")
    lines, tagged = a.cmd("NOOP")
    # a selected first: the two delivered messages left are its \Recent ones.
    assert lines == [b"* 3 EXISTS\r\n", b"* 2 RECENT\r\n"]
    a.close()
    b.close()


def age_dirs(maildir, seconds=10):
    """Sets new/ and cur/ back in time, as if nothing had changed lately."""
    t = time.time() - seconds
    for sub in ("new", "cur"):
        os.utime(maildir / sub, (t, t))


def test_later_sessions_open_a_quiet_folder_from_its_list_and_miss_no_change(imap):
    m = imap()
    m.deliver("alice@example.org", *MESSAGES)
    box = m.maildir("alice@example.org")
    r = m.raw()
    assert r.ok("SELECT INBOX")  # moves new/ to cur/: the list keeps no stamps
    r.close()
    age_dirs(box)
    r = m.raw()
    assert r.ok("SELECT INBOX")  # reads the quiet directories, records them
    r.close()
    header = (box / "posthorn-uidlist").read_text().splitlines()[0].split()
    assert header[:2] == ["posthorn-uidlist", "2"] and header[4] != "-"
    # Another program sets a flag (a rename in cur/) and puts the directory's
    # mtime back exactly: its ctime still tells.
    cur = box / "cur"
    before = os.stat(cur)
    name = sorted(p.name for p in cur.iterdir())[0]
    os.rename(cur / name, cur / (name.split(":")[0] + ":2,F"))
    os.utime(cur, ns=(before.st_atime_ns, before.st_mtime_ns))
    r = m.raw()
    lines, _ = r.cmd("SELECT INBOX")
    assert b"* 3 EXISTS\r\n" in lines
    lines, _ = r.cmd("FETCH 1:* FLAGS")
    assert sum(b"\\Flagged" in line for line in lines) == 1
    r.close()
    # A delivery is seen by the next session, and once more by one after the
    # directories went quiet again.
    m.deliver("alice@example.org", MESSAGES[0])
    for age in (False, True):
        if age:
            age_dirs(box)
        r = m.raw()
        lines, _ = r.cmd("SELECT INBOX")
        assert b"* 4 EXISTS\r\n" in lines
        r.close()


def test_idle_sees_a_delivery_and_another_sessions_flags(imap):
    m = imap()
    a, b = m.raw(), m.raw()
    assert a.ok("SELECT INBOX") and b.ok("SELECT INBOX")
    a.send("i IDLE\r\n")
    assert a.line() == b"+ idling\r\n"
    started = time.monotonic()
    m.deliver("alice@example.org", MESSAGES[0])
    assert a.line() == b"* 1 EXISTS\r\n"
    assert a.line() == b"* 1 RECENT\r\n"
    latency = time.monotonic() - started
    print(f"IDLE saw the delivery after {latency * 1000:.0f} ms")
    lines, _ = b.cmd("NOOP")
    assert lines == [b"* 1 EXISTS\r\n", b"* 0 RECENT\r\n"]
    assert b.ok("STORE 1 +FLAGS (\\Answered)")
    assert a.line() == b"* 1 FETCH (FLAGS (\\Answered \\Recent))\r\n"
    a.send("DONE\r\n")
    assert a.line() == b"i OK IDLE terminated\r\n"
    a.close()
    b.close()


def test_idle_sees_mail_delivered_through_smtp(imap):
    m = imap(smtp=True)
    wait_for(lambda: (m.inst.dir / "spool" / "public" / "qmgr").exists(), 10, "qmgr's socket")
    a = m.raw()
    assert a.ok("SELECT INBOX")
    a.send("i IDLE\r\n")
    assert a.line() == b"+ idling\r\n"
    with smtplib.SMTP("127.0.0.1", m.smtp, timeout=15) as s:
        s.sendmail("carol@example.net", ["alice@example.org"],
                   b"From: carol@example.net\r\nSubject: by smtp\r\n\r\nhello\r\n")
    a.sock.settimeout(30)  # through the queue: smtpd, qmgr, local
    assert a.line() == b"* 1 EXISTS\r\n"
    assert a.line() == b"* 1 RECENT\r\n"
    a.send("DONE\r\n")
    assert a.line() == b"i OK IDLE terminated\r\n"
    lines, _ = a.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS (DELIVERED-TO SUBJECT)]")
    assert lines[0].endswith(b"Subject: by smtp\r\nDelivered-To: alice@example.org\r\n\r\n)\r\n") or \
        lines[0].endswith(b"Delivered-To: alice@example.org\r\nSubject: by smtp\r\n\r\n)\r\n")
    a.close()


def test_imap4rev2_enabled_by_a_client(imap):
    m = imap()
    m.deliver("alice@example.org", *MESSAGES)
    r = m.raw()
    lines, tagged = r.cmd("ENABLE IMAP4rev2")
    assert lines == [b"* ENABLED IMAP4rev2\r\n"]
    lines, tagged = r.cmd("SELECT INBOX")
    assert b'* LIST () "." "INBOX"\r\n' in lines
    assert not any(b"RECENT" in line for line in lines)
    lines, _ = r.cmd("UID SEARCH SUBJECT t")  # "two", "three"
    assert lines == [b'* ESEARCH (TAG "t4") UID ALL 2:3\r\n']
    lines, _ = r.cmd("FETCH 2 (BINARY.SIZE[2] BINARY.PEEK[2])")
    assert lines == [b"* 2 FETCH (BINARY.SIZE[2] 13 BINARY[2] {13}\r\n<b>needle</b>)\r\n"]
    assert r.ok('CREATE "Caf\u00e9"')  # sent as UTF-8
    assert (m.maildir("alice@example.org") / ".Caf&AOk-").is_dir()
    lines, _ = r.cmd('LIST "" "Caf*"')
    assert lines == ['* LIST (\\HasNoChildren) "." "Caf\u00e9"\r\n'.encode()]
    r.close()


# --- hostile input ----------------------------------------------------------------------

def test_hostile_inputs_are_refused_without_a_crash(imap):
    m = imap()
    m.deliver("alice@example.org", MESSAGES[0])
    r = m.raw()
    # A literal over APPENDLIMIT: NO [TOOBIG] before a byte of it is sent.
    r.send("a APPEND INBOX {999999999}\r\n")
    assert r.line().startswith(b"a NO [TOOBIG]")
    assert r.ok("NOOP")
    _, tagged = r.cmd("LIST " + "(" * 40 + ")" * 40)
    assert b"BAD" in tagged and b"nested" in tagged
    _, tagged = r.cmd("FETCH *:* FLAGS")
    assert tagged.split()[1] == b"BAD"  # nothing selected
    assert r.ok("SELECT INBOX")
    for bad in ("0", "4294967296", "1:0", "1,,2", "2", "*:99999999999"):
        _, tagged = r.cmd(f"FETCH {bad} FLAGS")
        assert tagged.split()[1] == b"BAD", bad
    _, tagged = r.cmd("SEARCH " + "NOT " * 200 + "ALL")
    assert tagged.split()[1] == b"BAD"
    _, tagged = r.cmd("UID FETCH 1:4294967295 (FLAGS)")
    assert tagged.split()[1] == b"OK"
    _, tagged = r.cmd('SELECT "../../../etc"')
    assert tagged.split()[1] == b"NO"
    # A line beyond imap_max_line_length ends the session.
    r.send("b NOOP " + "x" * 70000 + "\r\n")
    assert r.line().startswith(b"* BYE [TOOBIG]")
    assert r.closed()
    # A non-synchronizing literal over the limit: the session ends, unread.
    r = m.raw()
    r.send("c APPEND INBOX {2000000+}\r\n" + "y" * 1000)
    assert r.line().startswith(b"* BYE [TOOBIG]")
    assert r.closed()
    # And the service still serves.
    r = m.raw()
    assert r.ok("SELECT INBOX")
    r.close()


# --- a real client syncing both ways ----------------------------------------------------

MBSYNC = shutil.which("mbsync")
IMAP_FLAGS = {b"\\Seen": "S", b"\\Answered": "R", b"\\Flagged": "F", b"\\Deleted": "T",
              b"\\Draft": "D"}


def remote_state(c, folder):
    """{subject: flag letters} of a folder, through IMAP."""
    c.select(folder)
    typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).split()
        subject = email.message_from_bytes(item[1])["Subject"]
        out[subject] = "".join(sorted(IMAP_FLAGS[f] for f in flags if f in IMAP_FLAGS))
    return out


def local_state(path):
    md = mailbox.Maildir(path, create=False)
    return {m["Subject"]: "".join(sorted(c for c in m.get_flags() if c in "SRFTD"))
            for m in md}


@pytest.mark.skipif(not MBSYNC, reason="mbsync (isync) is not installed")
def test_mbsync_two_way_sync(imap, tmp_path):
    m = imap()
    m.deliver("alice@example.org",
              *[f"From: x@example.net\nSubject: m{i}\n\nbody {i}\n".encode() for i in range(4)])
    c = m.login()
    c.create("Work")
    c.append("Work", r"(\Flagged)", None, b"Subject: w0\r\n\r\nwork\r\n")
    # A host certificate for "localhost": mbsync trusts it as it is.
    cert, key = m.files / "host.pem", m.files / "host.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "30", "-subj", "/CN=localhost", "-addext",
                    "basicConstraints=critical,CA:FALSE", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    key.chmod(0o644)
    m.inst.set(imap_tls_cert_file=str(cert), imap_tls_key_file=str(key))
    local = tmp_path / "local"
    local.mkdir()
    cfg = tmp_path / "mbsyncrc"
    cfg.write_text(f"""IMAPAccount t
Host localhost
Port {m.imaps}
User alice@example.org
Pass "{USERS['alice@example.org']}"
SSLType IMAPS
CertificateFile {cert}
SystemCertificates no

IMAPStore remote
Account t

MaildirStore near
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :near:
Patterns *
Create Both
Expunge Both
SyncState *
""")

    def sync():
        r = subprocess.run([MBSYNC, "-c", str(cfg), "-a"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

    m.inst.posthorn("reload")  # new processes read the new certificate
    wait_for(lambda: subprocess.run([MBSYNC, "-c", str(cfg), "-l", "-a"], capture_output=True,
                                    timeout=30).returncode == 0, 20, "mbsync to connect")
    sync()
    assert local_state(local / "INBOX") == {f"m{i}": "" for i in range(4)}
    assert local_state(local / "Work") == {"w0": "F"}

    # Both sides change: flags, deletions, new messages, in both folders.
    md = mailbox.Maildir(local / "INBOX", create=False)
    for key, msg in list(md.items()):
        if msg["Subject"] == "m0":
            msg.add_flag("S")
            md[key] = msg
        elif msg["Subject"] == "m1":
            md.remove(key)
    work = mailbox.Maildir(local / "Work", create=False)
    work.add(mailbox.MaildirMessage(b"Subject: w1\n\nfrom the client\n"))
    c.select("INBOX")
    typ, data = c.search(None, "SUBJECT", "m2")
    c.store(data[0], "+FLAGS", r"(\Answered \Flagged)")
    typ, data = c.search(None, "SUBJECT", "m3")
    c.store(data[0], "+FLAGS", r"(\Deleted)")
    c.expunge()
    c.append("INBOX", None, None, b"Subject: m4\r\n\r\nnew on the server\r\n")
    sync()

    want_inbox = {"m0": "S", "m2": "FR", "m4": ""}
    want_work = {"w0": "F", "w1": ""}
    assert local_state(local / "INBOX") == want_inbox
    assert local_state(local / "Work") == want_work
    assert remote_state(c, "INBOX") == want_inbox
    assert remote_state(c, "Work") == want_work
    # A third run finds nothing to do and changes nothing.
    sync()
    assert remote_state(c, "INBOX") == want_inbox
    assert local_state(local / "INBOX") == want_inbox
    c.logout()


# --- BODYSTRUCTURE of nasty messages, checked against RFC 3501's grammar ---------------

class Grammar:
    """A strict reader of RFC 3501 (9) body and envelope: raises on anything
    the grammar does not allow."""

    def __init__(self, data):
        self.s, self.i = data, 0

    def fail(self, what):
        raise AssertionError(f"{what} at {self.i}: {self.s[self.i:self.i + 60]!r}")

    def peek(self, text):
        return self.s.startswith(text, self.i)

    def take(self, text):
        if not self.peek(text):
            self.fail(f"expected {text!r}")
        self.i += len(text)

    def sp(self):
        self.take(b" ")

    def number(self):
        m = re.compile(rb"\d+").match(self.s, self.i)
        if not m:
            self.fail("expected a number")
        self.i = m.end()
        return int(m.group())

    def string(self):
        if self.peek(b'"'):
            m = re.compile(rb'"((?:[^"\\\r\n]|\\["\\])*)"').match(self.s, self.i)
            if not m:
                self.fail("bad quoted string")
            self.i = m.end()
            return m.group(1)
        m = re.compile(rb"\{(\d+)\}\r\n").match(self.s, self.i)
        if not m:
            self.fail("expected a string")
        n = int(m.group(1))
        self.i = m.end() + n
        return self.s[m.end():self.i]

    def nstring(self):
        if self.peek(b"NIL"):
            self.i += 3
            return None
        return self.string()

    def param_list(self):  # body-fld-param
        if self.peek(b"NIL"):
            self.i += 3
            return
        self.take(b"(")
        self.string(); self.sp(); self.string()
        while self.peek(b" "):
            self.sp(); self.string(); self.sp(); self.string()
        self.take(b")")

    def address_list(self):
        if self.peek(b"NIL"):
            self.i += 3
            return
        self.take(b"(")
        while True:
            self.take(b"(")
            for k in range(4):
                if k:
                    self.sp()
                self.nstring()
            self.take(b")")
            if self.peek(b")"):
                break
        self.take(b")")

    def envelope(self):
        self.take(b"(")
        self.nstring(); self.sp(); self.nstring()
        for _ in range(6):
            self.sp(); self.address_list()
        self.sp(); self.nstring(); self.sp(); self.nstring()
        self.take(b")")

    def fields(self):  # body-fields
        self.param_list(); self.sp(); self.nstring(); self.sp(); self.nstring(); self.sp()
        self.string(); self.sp(); self.number()

    def dsp_lang_loc(self):  # [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
        if not self.peek(b" "):
            return
        self.sp()
        if self.peek(b"NIL"):
            self.i += 3
        else:
            self.take(b"("); self.string(); self.sp(); self.param_list(); self.take(b")")
        if not self.peek(b" "):
            return
        self.sp()
        if self.peek(b"("):
            self.take(b"("); self.string()
            while self.peek(b" "):
                self.sp(); self.string()
            self.take(b")")
        else:
            self.nstring()
        if self.peek(b" "):
            self.sp(); self.nstring()

    def body(self, depth=0):
        assert depth < 200, "nested too deep"
        self.take(b"(")
        if self.peek(b"("):  # body-type-mpart
            while self.peek(b"("):
                self.body(depth + 1)
            self.sp(); self.string()
            if self.peek(b" "):
                self.sp(); self.param_list(); self.dsp_lang_loc()
        else:
            media = self.string().upper()
            self.sp()
            sub = self.string().upper()
            self.sp(); self.fields()
            if media == b"MESSAGE" and sub == b"RFC822":
                self.sp(); self.envelope(); self.sp(); self.body(depth + 1); self.sp(); self.number()
            elif media == b"TEXT":
                self.sp(); self.number()
            if self.peek(b" "):  # body-ext-1part
                self.sp(); self.nstring(); self.dsp_lang_loc()
        self.take(b")")

    def check(self, what):
        if what == b"ENVELOPE":
            self.envelope()
        else:
            self.body()
        if self.i != len(self.s):
            self.fail("trailing data")


NASTY = {
    "no content-type": b"Subject: plain\r\n\r\nbody\r\n",
    "no header at all": b"just a body without header\r\n",
    "no body": b"Subject: head only",
    "missing boundary": b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\npart\r\n--x--\r\n",
    "wrong boundary": b'Content-Type: multipart/mixed; boundary="y"\r\n\r\n--x\r\n\r\npart\r\n',
    "no close delimiter": b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
                          b"Content-Type: text/html\r\n\r\n<p>x\r\n--b\r\n\r\nlast\r\n",
    "empty parts": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\n--b--\r\n",
    "deep nesting": b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                             for i in range(150)) + b"\r\ninnermost\r\n",
    "rfc822 inside": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                     b"Content-Type: message/rfc822\r\n\r\nFrom: <x@y>\r\nTo: ,,, ;@\r\n"
                     b"Subject: inner\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n"
                     b"--d\r\n\r\nSubject: digest part\r\n\r\nx\r\n--d--\r\n--b--\r\n",
    "rfc2231 and dispositions": b"Content-Type: application/pdf; name*0*=utf-8''na%C3%AFve;"
                                b" name*1=\".pdf\"\r\nContent-Disposition: attachment; filename*="
                                b"iso-8859-1''r%E9sum%E9.pdf; size=12\r\nContent-Language: en, de\r\n"
                                b"Content-Location: http://x/\r\nContent-ID: <a@b>\r\n"
                                b"Content-Description: \"quoted\" \\ back\r\n\r\nJVBERi0=\r\n",
    "broken content-type": b"Content-Type: ;;;=\"\r\nContent-Transfer-Encoding: \r\n\r\nx\r\n",
    "8-bit header": "Subject: caf\u00e9\r\nFrom: J\u00fcrgen <j@x.example>\r\n\r\nx\r\n".encode(),
    "bare LF and CR": b"Subject: lf\n\nline\rwith CR\nand LF\n",
    "groups and junk": b"From: undisclosed-recipients:;\r\nTo: a@b, \"q\\\"x\" <c@d>, (comment) e@f, "
                       b"Group: g@h, i@j;\r\nCc: <<<>>>\r\nDate: yesterday\r\n\r\nx\r\n",
    "huge header line": b"Subject: " + b"x" * 20000 + b"\r\n\r\nbody\r\n",
}


def test_bodystructure_of_nasty_messages_follows_the_grammar(imap):
    m = imap()
    m.deliver("alice@example.org", *NASTY.values())
    r = m.raw()
    lines, tagged = r.cmd("SELECT INBOX")
    assert f"* {len(NASTY)} EXISTS\r\n".encode() in lines
    for what in (b"BODYSTRUCTURE", b"BODY", b"ENVELOPE"):
        lines, tagged = r.cmd(f"FETCH 1:* {what.decode()}")
        assert tagged.split()[1] == b"OK"
        assert len(lines) == len(NASTY)
        for name, line in zip(NASTY, lines):
            m_ = re.match(rb"\* (\d+) FETCH \(" + what + rb" ", line)
            assert m_, (name, line[:80])
            inner = line[m_.end():-3]  # without ")\r\n"
            try:
                Grammar(inner).check(what)
            except AssertionError as e:
                raise AssertionError(f"{name}: {what.decode()}: {e}") from None
    # And each part that BODYSTRUCTURE names can be fetched.
    lines, tagged = r.cmd("FETCH 9 (BODY.PEEK[1] BODY.PEEK[1.HEADER] BODY.PEEK[1.1.MIME] "
                          "BODY.PEEK[1.1.TEXT])")
    assert tagged.split()[1] == b"OK"
    assert b"Subject: inner" in lines[0] and b"Subject: digest part" in lines[0]
    r.close()
