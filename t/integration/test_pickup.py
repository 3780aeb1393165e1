"""pickup under master: woken by postdrop, by master's timer and at start;
hostile maildrop files go to corrupt/ while the rest keeps flowing. The last
tests run qmgr and local too (a delivery instance, submission.py) and follow
picked-up mail to the recipients' Maildirs."""
import os
import socket
import struct
import subprocess
import time

import pytest

from instance import wait_for
from submission import (BUILD, MAILBOXES, MailStore, delivery_instance, dump, queue_files,
                        sendmail, spool_empty, split_delivered, submission_instance,
                        wait_maildrop_empty, wait_queued)


@pytest.fixture
def instances():
    made = []

    def make(directory, main=None, services=None):
        kw = {} if services is None else {"services": services}
        inst = submission_instance(directory, main, **kw)
        made.append(inst)
        inst.start()
        return inst
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def pickup_pid(inst):
    def find():
        for pid in inst.children():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if os.path.basename(f.read().split(b"\0")[0]) == b"pickup":
                        return pid
            except OSError:
                pass
        return None
    return wait_for(find, what="a pickup process")


def test_corrupt_maildrop_files_go_to_corrupt_and_pickup_goes_on(instances, tmp_path):
    inst = instances(tmp_path / "inst")
    assert sendmail(inst, "bob@example.org", input=b"Subject: one\n\nfirst\n").returncode == 0
    wait_queued(inst)
    pid = pickup_pid(inst)
    maildrop = inst.dir / "spool" / "maildrop"
    # What a hostile or broken writer could leave: garbage under a queue-ID
    # name, a truncated file, a name that is no queue ID, a symlink.
    good = queue_files(inst, "incoming")[0].read_bytes()
    (maildrop / "1K0Y500FVFAAERS1").write_bytes(b"\x00garbage" * 10)
    (maildrop / "1K0Y500FVFAAERS2").write_bytes(good[: len(good) // 2])
    (maildrop / "not-a-queue-id").write_bytes(b"x")
    os.symlink("/etc/shadow", maildrop / "1K0Y500FVFAAERS3")
    assert sendmail(inst, "carol@example.org", input=b"Subject: two\n\nsecond\n").returncode == 0
    wait_queued(inst, 2)
    corrupt = wait_for(lambda: sorted(p.name for p in (inst.dir / "spool" / "corrupt").iterdir())
                       if len(list((inst.dir / "spool" / "corrupt").iterdir())) == 4 else None,
                       what="four files in corrupt/")
    assert corrupt == ["1K0Y500FVFAAERS1", "1K0Y500FVFAAERS2", "1K0Y500FVFAAERS3",
                       "not-a-queue-id"]
    assert os.path.islink(inst.dir / "spool" / "corrupt" / "1K0Y500FVFAAERS3")  # moved, not followed
    wait_maildrop_empty(inst)
    log = inst.log()
    assert "1K0Y500FVFAAERS1: warning: damaged queue file moved from maildrop/ to corrupt/" in log
    assert "not-a-queue-id: warning: damaged queue file moved" in log
    assert pickup_pid(inst) == pid  # the same process carried on
    assert sendmail(inst, "dave@example.org", input=b"Subject: three\n\nthird\n").returncode == 0
    wait_queued(inst, 3)


def test_master_wakeup_finds_mail_that_no_notice_announced(instances, tmp_path):
    inst = instances(tmp_path / "inst", services=["pickup unix n - n 1 1 pickup"])
    pickup_pid(inst)
    sock = inst.dir / "spool" / "public" / "pickup"
    hidden = inst.dir / "spool" / "public" / "pickup.hidden"
    os.rename(sock, hidden)  # postdrop cannot wake pickup now
    try:
        r = sendmail(inst, "bob@example.org", input=b"Subject: unannounced\n\nbody\n")
        assert r.returncode == 0, r.stderr
        fields, message = dump(wait_queued(inst, timeout=15)[0])
        assert b"Subject: unannounced" in message
    finally:
        os.rename(hidden, sock)


def test_a_notice_is_only_a_wakeup_and_junk_is_dropped(instances, tmp_path):
    inst = instances(tmp_path / "inst")
    pid = pickup_pid(inst)
    path = str(inst.dir / "spool" / "public" / "pickup")
    for junk in (b"\xff\xff\xff\xff", b"GET / HTTP/1.0\r\n\r\n", struct.pack(">I", 3) + b"abc"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(path)
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):  # pickup's hello, then it closes on the junk
                pass
    assert pickup_pid(inst) == pid
    assert sendmail(inst, "bob@example.org", input=b"Subject: after junk\n\nbody\n").returncode == 0
    wait_queued(inst)


def test_concurrent_submissions_all_arrive(instances, tmp_path):
    inst = instances(tmp_path / "inst")
    n = 40
    start = time.monotonic()
    procs = [subprocess.Popen([str(BUILD / "bin" / "sendmail"), "-C", str(inst.dir),
                               f"user{i}@example.org"], stdin=subprocess.PIPE)
             for i in range(n)]
    for i, p in enumerate(procs):
        p.communicate(f"Subject: message {i}\n\nbody {i}\n".encode(), timeout=60)
        assert p.returncode == 0
    files = wait_queued(inst, n, timeout=30)
    elapsed = time.monotonic() - start
    rcpts = sorted(dump(f)[0]["recipient"][0] for f in files)
    assert rcpts == sorted(f"user{i}@example.org" for i in range(n))
    wait_maildrop_empty(inst)
    print(f"{n} submissions queued in {elapsed:.2f}s")


@pytest.fixture
def delivering(tmp_path):
    """A started delivery instance with its MailStore as .store."""
    store = MailStore()
    inst = delivery_instance(tmp_path / "deliver", store)
    inst.store = store
    try:
        inst.start()
        yield inst
    finally:
        left = inst.teardown()
        store.cleanup()
    assert not left, f"processes left behind: {left}"


def test_corrupt_maildrop_files_do_not_hold_up_delivery(delivering):
    inst, store = delivering, delivering.store
    maildrop = inst.dir / "spool" / "maildrop"
    (maildrop / "1K0Y500FVFAAERS1").write_bytes(b"\x00garbage" * 10)
    os.symlink("/etc/shadow", maildrop / "1K0Y500FVFAAERS2")
    assert sendmail(inst, "carol@example.org", input=b"Subject: past junk\n\nbody\n").returncode == 0
    (delivered,) = store.wait("carol@example.org")
    head, body = split_delivered(delivered)
    assert "\nSubject: past junk\n" in head and body == b"body\n"
    assert sorted(p.name for p in (inst.dir / "spool" / "corrupt").iterdir()) == [
        "1K0Y500FVFAAERS1", "1K0Y500FVFAAERS2"]
    wait_for(lambda: spool_empty(inst), what="the queue to empty")


def test_concurrent_submissions_are_all_delivered(delivering):
    inst, store = delivering, delivering.store
    n = 40
    start = time.monotonic()
    procs = [subprocess.Popen([str(BUILD / "bin" / "sendmail"), "-C", str(inst.dir),
                               MAILBOXES[i % len(MAILBOXES)]], stdin=subprocess.PIPE)
             for i in range(n)]
    for i, p in enumerate(procs):
        p.communicate(f"Subject: message {i}\n\nbody {i}\n".encode(), timeout=60)
        assert p.returncode == 0
    per_box = n // len(MAILBOXES)
    bodies = []
    for address in MAILBOXES:
        bodies += [split_delivered(m)[1] for m in store.wait(address, per_box, timeout=60)]
    elapsed = time.monotonic() - start
    assert sorted(bodies) == sorted(f"body {i}\n".encode() for i in range(n))  # each once
    for address in MAILBOXES:
        for m in store.messages(address):
            i = int(split_delivered(m)[1].split()[1])
            assert MAILBOXES[i % len(MAILBOXES)] == address
    wait_for(lambda: spool_empty(inst), what="the queue to empty")
    print(f"{n} submissions delivered to Maildirs in {elapsed:.2f}s")
