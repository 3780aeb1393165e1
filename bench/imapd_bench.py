"""IMAP over a large INBOX: Posthorn's imapd against Dovecot's, same run.

One Maildir of BENCH_IMAP_MESSAGES messages (default 10,000: text, some
multipart with a base64 attachment, sizes 1-30 KiB) is made once and copied
for each server, so both start from the same files and neither sees the
other's index. Each server runs in a temporary directory on a loopback port
with plaintext logins allowed. A raw-socket client (it only looks for the
tagged response, so it costs little) times, in one session:

  SELECT INBOX                                   (cold: no index yet)
  FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)
  FETCH 1:* BODY.PEEK[]
  SEARCH BODY <word in 1% of the messages>
  SEARCH UNSEEN

then, in a second session, SELECT and the ENVELOPE fetch again (warm: Dovecot
answers from its cache). Printed per step: seconds, and at the end CPU
seconds and peak memory (Pss) of each server's process tree and the
Posthorn/Dovecot ratios (below 1 is better).

Needs the auth service (auth/, lib/auth) for Posthorn's login and, for the
comparison, Dovecot (dovecot-imapd) and root (Dovecot's privilege drops).
"""
import base64
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402

BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build").resolve()
MESSAGES = int(os.environ.get("BENCH_IMAP_MESSAGES", "10000"))
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
if not os.path.exists("/usr/lib/dovecot/imap"):  # dovecot-core without dovecot-imapd
    DOVECOT = None
USER, PASSWORD = "bench@bench.test", "bench-pw"
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()


def message(rng, i):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(150, 4000)))
    if i % 100 == 7:
        words += " needleword"
    body = "\r\n".join(words[k:k + 72] for k in range(0, len(words), 72)) + "\r\n"
    head = (f"From: Sender {i % 97} <sender{i % 97}@example.net>\r\n"
            f"To: Bench <{USER}>\r\nCc: other{i % 13}@example.org\r\n"
            f"Subject: message {i} about {rng.choice(WORDS)}\r\n"
            f"Date: Mon, {1 + i % 28} Feb 2021 10:{i % 60:02d}:00 +0000\r\n"
            f"Message-ID: <{i}.bench@example.net>\r\nMIME-Version: 1.0\r\n")
    if i % 5:
        return (head + "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body).encode()
    attachment = rng.randbytes(rng.randint(2000, 20000))
    b64 = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    return (head + "Content-Type: multipart/mixed; boundary=\"b-{0}\"\r\n\r\n"
            "--b-{0}\r\nContent-Type: text/plain\r\n\r\n{1}--b-{0}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"f{0}.bin\"\r\n\r\n{2}--b-{0}--\r\n"
            .format(i, body, b64)).encode()


def make_maildir(path):
    rng = random.Random(42)
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    t = 1600000000
    for i in range(MESSAGES):
        data = message(rng, i)
        flags = "S" if i % 3 else ""
        name = f"{t + i}.M{i}P1.bench,S={len(data)},W={len(data)}:2,{flags}"
        (path / "cur" / name).write_bytes(data)
        os.utime(path / "cur" / name, (t + i, t + i))


def chown_tree(path, uid, gid):
    for p in [path, *path.rglob("*")]:
        os.chown(p, uid, gid)


class Client:
    """Just enough IMAP: send a command, read until its tagged response."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = bytearray()
        self.n = 0
        self.read_until(b"\r\n")

    def read_until(self, marker):
        # Searches only what is new (plus a marker's length): linear in the
        # octets read, so the client stays cheap for a 160 MiB FETCH.
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                out, self.buf = self.buf[:i + len(marker)], self.buf[i + len(marker):]
                return bytes(out)
            start = max(0, len(self.buf) - len(marker))
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk

    def cmd(self, text):
        self.n += 1
        tag = f"b{self.n}".encode()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        self.buf[0:0] = b"\r\n"  # the tagged line may be the first one
        data = self.read_until(b"\r\n" + tag + b" ")[2:]
        status = self.read_until(b"\r\n")
        if not status.startswith(b"OK"):
            raise RuntimeError(f"{text}: {status!r}")
        return data

    def close(self):
        self.sock.close()


def run_steps(port):
    times = {}
    c = Client(port)
    c.cmd(f'LOGIN "{USER}" "{PASSWORD}"')
    t0 = time.monotonic()
    c.cmd("SELECT INBOX")
    times["SELECT (cold)"] = time.monotonic() - t0
    t0 = time.monotonic()
    env = c.cmd("FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)")
    times["FETCH ENVELOPE (cold)"] = time.monotonic() - t0
    if env.count(b"ENVELOPE") < MESSAGES:
        raise RuntimeError("short ENVELOPE fetch")
    t0 = time.monotonic()
    body = c.cmd("FETCH 1:* BODY.PEEK[]")
    times["FETCH BODY.PEEK[]"] = time.monotonic() - t0
    t0 = time.monotonic()
    found = c.cmd("SEARCH BODY needleword")
    times["SEARCH BODY"] = time.monotonic() - t0
    hits = len(re.findall(rb"\d+", found.split(b"\r\n")[0]))
    t0 = time.monotonic()
    c.cmd("SEARCH UNSEEN")
    times["SEARCH UNSEEN"] = time.monotonic() - t0
    c.close()
    c = Client(port)
    c.cmd(f'LOGIN "{USER}" "{PASSWORD}"')
    t0 = time.monotonic()
    c.cmd("SELECT INBOX")
    times["SELECT (warm)"] = time.monotonic() - t0
    t0 = time.monotonic()
    c.cmd("FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)")
    times["FETCH ENVELOPE (warm)"] = time.monotonic() - t0
    c.close()
    return times, len(body), hits


def measure(start, stop, root_pid, port):
    start()
    try:
        root = root_pid()
        cpu0 = mta.tree_cpu(root)
        with mta.Sampler(root) as mem:
            times, octets, hits = run_steps(port)
        cpu = mta.tree_cpu(root) - cpu0
        return times, cpu, mem.peak, octets, hits
    finally:
        stop()


def posthorn(base, maildir):
    d = base / "posthorn"
    files = base / "posthorn-files"
    files.mkdir()
    files.chmod(0o755)
    mail = files / "mail"
    shutil.copytree(maildir, mail / "bench")
    pw = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=PASSWORD + "\n",
                        capture_output=True, text=True, check=True).stdout.strip()
    (files / "passwd").write_text(f"{USER} {pw}\n")
    (files / "vmailbox").write_text(f"{USER} bench/\n")
    port = mta.free_port()
    d.mkdir()
    main = {
        "queue_directory": "spool", "data_directory": "data", "maillog_file": "maillog",
        "daemon_directory": str(BUILD / "bin"),
        "virtual_mailbox_domains": "bench.test",
        "virtual_mailbox_maps": f"texthash:{files / 'vmailbox'}",
        "virtual_mailbox_base": str(mail),
        "auth_password_maps": f"texthash:{files / 'passwd'}",
        "imap_plaintext_auth": "yes",
    }
    if os.geteuid() == 0:  # imapd becomes the mailbox owner after the login
        main.update(mail_owner="nobody", setgid_group="nogroup",
                    virtual_uid_maps="static:65534", virtual_gid_maps="static:65534")
        chown_tree(mail, 65534, 65534)
    (d / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
    (d / "master.cf").write_text(f"127.0.0.1:{port} inet n n n - - imapd\nauth unix - - n - - auth\n")
    cmd = [str(BUILD / "bin" / "posthorn"), "-c", str(d)]
    lock = d / "data" / "master.lock"
    return (lambda: (subprocess.run(cmd + ["start"], check=True, capture_output=True),
                     mta.wait_for(lambda: mta.port_open(port), 10, "posthorn imapd")),
            lambda: subprocess.run(cmd + ["stop"], capture_output=True),
            lambda: int(lock.read_text().strip()), port)


def dovecot(base, maildir):
    d = base / "dovecot"
    d.mkdir()
    d.chmod(0o755)
    shutil.copytree(maildir, d / "Maildir")
    chown_tree(d / "Maildir", 65534, 65534)
    port = mta.free_port()
    conf = d / "dovecot.conf"
    conf.write_text(f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/home
}}
mail_location = maildir:{d}/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
first_valid_uid = 1
""")
    pid = d / "run" / "master.pid"
    # Dovecot's daemon keeps the descriptors it was given: no pipes.
    return (lambda: (subprocess.run([DOVECOT, "-c", str(conf)], check=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                     mta.wait_for(lambda: mta.port_open(port) and pid.exists(), 10, "dovecot")),
            lambda: subprocess.run([DOVECOT, "-c", str(conf), "stop"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            lambda: int(pid.read_text().strip()), port)


def main():
    if not (BUILD / "bin" / "auth").exists():
        print("imapd: the auth service is not built; skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp)
        base.chmod(0o755)
        maildir = base / "source"
        t0 = time.monotonic()
        make_maildir(maildir)
        size = sum(p.stat().st_size for p in (maildir / "cur").iterdir())
        print(f"imapd: {MESSAGES} messages, {size / 1048576:.1f} MiB "
              f"(made in {time.monotonic() - t0:.1f}s)", flush=True)
        ours = measure(*posthorn(base, maildir))
        theirs = measure(*dovecot(base, maildir)) if DOVECOT and os.geteuid() == 0 else None
    for step, secs in ours[0].items():
        line = f"  {step:24s} posthorn {secs:7.3f} s"
        if theirs:
            other = theirs[0][step]
            line += f" | dovecot {other:7.3f} s | ratio {secs / other if other else 0:5.2f}"
        print(line)
    line = f"  {'process tree':24s} posthorn {ours[1]:6.2f} s CPU {ours[2] / 1024:6.1f} MiB"
    if theirs:
        line += (f" | dovecot {theirs[1]:6.2f} s CPU {theirs[2] / 1024:6.1f} MiB | ratio cpu "
                 f"{ours[1] / theirs[1]:4.2f} mem {ours[2] / theirs[2]:4.2f}")
        if (ours[3], ours[4]) != (theirs[3], theirs[4]):
            line += f" | NOTE: answers differ ({ours[3]}/{ours[4]} vs {theirs[3]}/{theirs[4]})"
    else:
        line += " | dovecot: not installed (or not root)"
    print(line)


if __name__ == "__main__":
    main()
