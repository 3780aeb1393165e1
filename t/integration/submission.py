"""Helpers for the local submission tests (test_sendmail.py, test_pickup.py).

A submission instance is an Instance (instance.py) whose master.cf runs
pickup, with the build's programs as daemon_directory. Run as root, the
real model is set up: postdrop is copied into the instance's cmd/ folder,
group setgid_group (nogroup) and mode 2755, and command_directory points
there, since the build tree's own copy cannot carry the set-gid bit for the
tests; posthorn is linked beside it, so sendmail finds both where an
installed system has them. Run as anyone else, nothing is privileged and
sendmail finds postdrop beside itself in the build tree.

A delivery instance (delivery_instance) adds qmgr and local as the virtual
transport, with virtual mailboxes (Maildirs in a MailStore) for the test
recipients: example.org and example.net are virtual mailbox domains, so
mail that sendmail submits goes all the way to a mailbox that the test
reads. Mail for any other domain goes to default_transport (smtp), which
these instances do not run: it is deferred and stays in deferred/.
"""
import grp
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile

from instance import BUILD, Instance, wait_for

PICKUP = "pickup unix n - n 60 1 pickup"
QMGR = "qmgr unix n - n 300 1 qmgr"
VIRTUAL = "virtual unix - n n - - local"
# The virtual mailboxes of a delivery instance, each a Maildir.
MAILBOXES = ("alice@example.org", "bob@example.org", "carol@example.org", "dave@example.net")


def is_root():
    return os.geteuid() == 0


def submission_instance(directory, main=None, services=(PICKUP,)):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    settings = {
        "daemon_directory": str(BUILD / "bin"),
        "myhostname": "host.example.org",
        "mydomain": "example.org",
        "myorigin": "example.org",
        "mydestination": "example.org, host.example.org, localhost",
    }
    if is_root():
        cmd = directory / "cmd"
        cmd.mkdir(exist_ok=True)
        shutil.copy(BUILD / "bin" / "postdrop", cmd / "postdrop")
        os.chown(cmd / "postdrop", 0, grp.getgrnam("nogroup").gr_gid)
        os.chmod(cmd / "postdrop", 0o2755)
        (cmd / "posthorn").symlink_to(BUILD / "bin" / "posthorn")
        os.chmod(cmd, 0o755)
        settings["command_directory"] = str(cmd)
    settings.update(main or {})
    return Instance(directory, settings, list(services))


class MailStore:
    """virtual_mailbox_base in a folder every uid can reach (pytest's tmp_path
    is root's alone), owned by the virtual uid that local switches to when
    run as root. Remove with cleanup()."""

    def __init__(self):
        root = is_root()
        self.uid, self.gid = (4242, 4242) if root else (os.getuid(), os.getgid())
        self.top = pathlib.Path(tempfile.mkdtemp(prefix="posthorn-submit-store-"))
        os.chmod(self.top, 0o755)
        self.base = self.top / "vmail"
        self.base.mkdir()
        os.chown(self.base, self.uid, self.gid)

    def box(self, address):
        local, _, domain = address.partition("@")
        return self.base / domain / local

    def messages(self, address):
        """The delivered messages of `address`, oldest name first, as bytes."""
        new = self.box(address) / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.exists() else []

    def wait(self, address, count=1, timeout=20.0):
        return wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.messages(address)),
                        timeout, f"{count} message(s) in the mailbox of {address}")

    def cleanup(self):
        shutil.rmtree(self.top, ignore_errors=True)


def delivery_instance(directory, store, main=None, services=()):
    """A submission instance that also delivers: pickup, qmgr and local as
    the virtual transport, MAILBOXES in `store`."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    maps = directory / "vmailbox"
    maps.write_text("".join(f"{a} {a.split('@')[1]}/{a.split('@')[0]}/\n" for a in MAILBOXES))
    settings = {
        "mydestination": "host.example.org, localhost",
        "virtual_mailbox_domains": "example.org, example.net",
        "virtual_mailbox_base": str(store.base),
        "virtual_mailbox_maps": f"texthash:{maps}",
        "virtual_uid_maps": f"static:{store.uid}",
        "virtual_gid_maps": f"static:{store.gid}",
    }
    settings.update(main or {})
    return submission_instance(directory, settings, (PICKUP, QMGR, VIRTUAL, *services))


def spool_empty(inst):
    """No message left in maildrop/ or any queue qmgr works from."""
    return not any(queue_files(inst, q) for q in ("maildrop", "incoming", "active", "deferred"))


def split_delivered(data):
    """A delivered Maildir message: (header block as text, each line ended
    by "\\n" as local stores it, body bytes)."""
    head, _, body = data.partition(b"\n\n")
    return head.decode(errors="replace") + "\n", body


def ensure_user(name):
    """A system account for the unprivileged tests (root only); its uid."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", "--comment", f"{name} tester", name], check=True)
        return pwd.getpwnam(name).pw_uid


def as_user(name):
    """subprocess keyword arguments that run a command as `name`, no extra groups."""
    pw = pwd.getpwnam(name)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def sendmail(inst, *args, input=b"", name="sendmail", env=None, via_env=False, **kw):
    """Runs the build's sendmail (or mailq/newaliases: a link of that name)
    against `inst` (-C DIR, or MAIL_CONFIG with via_env); CompletedProcess
    with bytes output."""
    exe = BUILD / "bin" / "sendmail"
    if name != "sendmail":
        links = inst.dir / "links"
        links.mkdir(exist_ok=True)
        link = links / name
        if not link.exists():
            link.symlink_to(exe)
        exe = link
    full_env = {k: v for k, v in os.environ.items() if k not in ("MAIL_CONFIG", "NAME")}
    full_env.update(env or {})
    argv = [str(exe), *map(str, args)]
    if via_env:
        full_env["MAIL_CONFIG"] = str(inst.dir)
    else:
        argv[1:1] = ["-C", str(inst.dir)]
    return subprocess.run(argv, input=input, env=full_env, capture_output=True, timeout=60, **kw)


def queue_files(inst, queue="incoming"):
    d = inst.dir / "spool" / queue
    if not d.exists():
        return []
    # Writers' temporary files (".tmp.*") are not messages yet.
    return sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))


def wait_queued(inst, count=1, queue="incoming", timeout=10.0):
    return wait_for(lambda: queue_files(inst, queue) if len(queue_files(inst, queue)) >= count
                    else None, timeout, f"{count} files in {queue}/")


def wait_maildrop_empty(inst, timeout=10.0):
    """pickup removes a maildrop file just after its queue file is in
    incoming/, so the two are seen together for a moment."""
    wait_for(lambda: queue_files(inst, "maildrop") == [], timeout, "maildrop/ to empty")


def dump(path):
    """A queue file read by t/progs/qfdump: (fields dict, message bytes).
    Recipients are a list under "recipient"."""
    out = subprocess.run([str(BUILD / "t" / "progs" / "qfdump"), str(path)], capture_output=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    head, _, message = out.stdout.partition(b"\n\n")
    fields = {"recipient": []}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        if key == "recipient":
            fields["recipient"].append(value)
        else:
            fields[key] = value
    return fields, message


def header_block(message):
    return message.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
