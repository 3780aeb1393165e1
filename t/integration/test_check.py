"""`posthorn check`: configuration, spool layout and tables, as an admin runs it."""
import os
import stat

import pytest


@pytest.fixture
def conf(tmp_path):
    d = tmp_path / "inst"
    d.mkdir()
    lines = ["queue_directory = spool", "data_directory = data", "alias_maps ="]
    if os.geteuid() == 0:  # as in instance.py: accounts every Debian has
        lines += ["mail_owner = nobody", "setgid_group = nogroup"]
    (d / "main.cf").write_text("\n".join(lines) + "\n")
    return d


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_creates_a_missing_spool_then_finds_nothing(posthorn, conf):
    r = posthorn("-c", conf, "check")
    assert r.returncode == 0, r.stderr
    assert "missing (repaired)" in r.stderr
    assert mode(conf / "spool" / "maildrop") == 0o1730
    r = posthorn("-c", conf, "check")
    assert (r.returncode, r.stderr) == (0, "")


def test_wrong_mode_is_reported_with_n_and_repaired_without(posthorn, conf):
    assert posthorn("-c", conf, "check").returncode == 0
    os.chmod(conf / "spool" / "incoming", 0o777)
    r = posthorn("check", "-n", "-c", conf)
    assert r.returncode == 1
    assert "incoming: mode 0777, expected 0700" in r.stderr
    assert mode(conf / "spool" / "incoming") == 0o777
    r = posthorn("check", "-c", conf)
    assert r.returncode == 0
    assert "(repaired)" in r.stderr
    assert mode(conf / "spool" / "incoming") == 0o700


def test_configuration_errors_stop_the_check(posthorn, conf):
    with open(conf / "main.cf", "a") as f:
        f.write("queue_directroy = x\n")
    r = posthorn("-c", conf, "check")
    assert r.returncode == 78
    assert "main.cf:" in r.stderr and "queue_directroy" in r.stderr


def test_tables_that_do_not_open_are_named(posthorn, conf):
    with open(conf / "main.cf", "a") as f:
        f.write(f"transport_maps = lmdb:{conf}/transport\n"
                f"header_checks = regexp:{conf}/header_checks\n")
    (conf / "header_checks").write_text("/^Subject: (/ REJECT\n")
    r = posthorn("-c", conf, "check")
    assert r.returncode == 1
    assert f"transport_maps: " in r.stderr and "transport.lmdb" in r.stderr
    assert "header_checks: " in r.stderr and "line 1" in r.stderr
    (conf / "transport").write_text("example.org smtp:[127.0.0.1]\n")
    assert posthorn("map", "build", f"lmdb:{conf}/transport").returncode == 0
    (conf / "header_checks").write_text("/^Subject: spam/ REJECT\n")
    r = posthorn("-c", conf, "check")
    assert r.returncode == 0, r.stderr


def test_help(posthorn):
    r = posthorn("check", "--help")
    assert r.returncode == 0 and "usage: posthorn check" in r.stdout
