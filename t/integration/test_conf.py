"""`posthorn conf` as an administrator uses it: show, check and edit main.cf and master.cf."""
import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"


@pytest.fixture
def confdir(tmp_path):
    """A copy of the shipped conf/ that a test may edit."""
    d = tmp_path / "etc"
    shutil.copytree(CONF, d)
    return d


def test_shipped_conf_is_valid_and_n_lists_what_it_sets(posthorn):
    r = posthorn("conf", "-n", "-c", CONF)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines == sorted(lines)
    assert "myorigin = $mydomain" in lines
    assert "home_mailbox = Maildir/" in lines
    # Only what main.cf sets: no default such as smtpd_timeout.
    assert not any(l.startswith("smtpd_timeout ") for l in lines)
    assert len(lines) < 20


def test_all_parameters_and_single_values(posthorn):
    r = posthorn("conf", "-c", CONF)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) >= 150
    assert "smtpd_timeout = 300s" in r.stdout.splitlines()
    r = posthorn("conf", "-c", CONF, "smtpd_banner", "myorigin")
    assert r.stdout == "smtpd_banner = $myhostname ESMTP $mail_name\nmyorigin = $mydomain\n"
    r = posthorn("conf", "-c", CONF, "-h", "-x", "smtpd_banner")
    assert r.returncode == 0
    assert r.stdout.endswith(" ESMTP Posthorn\n") and "$" not in r.stdout


def test_defaults(posthorn, confdir):
    r = posthorn("conf", "-d", "-c", confdir, "myorigin", "maximal_queue_lifetime", "mydestination")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "myorigin = $myhostname",
        "maximal_queue_lifetime = 5d",
        "mydestination = $myhostname, localhost.$mydomain, localhost",
    ]
    r = posthorn("conf", "-d", "-x", "-c", confdir, "mua_client_restrictions", "myorigin",
                 "relay_destination_recipient_limit")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "mua_client_restrictions ="
    assert lines[1].startswith("myorigin = ") and "$" not in lines[1]
    assert lines[2] == "relay_destination_recipient_limit = 50"
    r = posthorn("conf", "-d", "-h", "-c", confdir, "config_directory")
    assert r.stdout.strip() == str(confdir)


def test_unknown_name_on_the_command_line(posthorn):
    r = posthorn("conf", "-c", CONF, "no_such_parameter")
    assert r.returncode == 64
    assert "no_such_parameter: unknown parameter" in r.stderr


def test_typo_is_reported_with_file_and_line(posthorn, confdir):
    main = confdir / "main.cf"
    text = main.read_text() + "smtpd_timout = 10s\nsmtpd_recipient_limit = lots\n"
    main.write_text(text)
    n = len(text.splitlines())
    r = posthorn("conf", "-n", "-c", confdir)
    assert r.returncode == 78
    assert r.stdout == ""
    assert f"{main}:{n - 1}: smtpd_timout: unknown parameter (did you mean smtpd_timeout?)" in r.stderr
    assert f'{main}:{n}: smtpd_recipient_limit: "lots" is not a number' in r.stderr


def test_master_cf_errors_are_reported_too(posthorn, confdir):
    master = confdir / "master.cf"
    master.write_text(master.read_text() + "smtp inet n - n - - smtpd -o smtpd_timeout=5x\n")
    n = len(master.read_text().splitlines())
    r = posthorn("conf", "-c", confdir)
    assert r.returncode == 78
    assert f"{master}:{n}: smtp/inet: duplicate of the entry at line" in r.stderr


def test_mail_config_selects_the_directory(posthorn, confdir):
    (confdir / "main.cf").write_text("relayhost = [smarthost.example]:587\n")
    (confdir / "master.cf").unlink()
    r = posthorn("conf", "-h", "relayhost", env={"MAIL_CONFIG": str(confdir)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "[smarthost.example]:587\n"
    r = posthorn("-c", confdir, "conf", "-h", "relayhost")
    assert r.stdout == "[smarthost.example]:587\n"


def test_missing_main_cf(posthorn, tmp_path):
    r = posthorn("conf", "-c", tmp_path)
    assert r.returncode == 78
    assert "main.cf" in r.stderr


def test_edit_keeps_comments_and_order(posthorn, confdir):
    main = confdir / "main.cf"
    before = main.read_text()
    main.write_text(before + "mynetworks_extra = 1\nmynetworks = 127.0.0.0/8,\n    10.0.0.0/8\n"
                    "# trailing comment\n")
    main.write_text(main.read_text().replace("mynetworks_extra = 1\n", ""))
    r = posthorn("conf", "-c", confdir, "-e", "mynetworks=192.0.2.0/24", "smtpd_timeout = 1m")
    assert r.returncode == 0, r.stderr
    after = main.read_text()
    assert after.count("mynetworks =") == 1
    assert "mynetworks = 192.0.2.0/24\n" in after
    assert "10.0.0.0/8" not in after
    assert after.endswith("# trailing comment\nsmtpd_timeout = 1m\n")
    # Every comment of the shipped file is still there, in order.
    comments = [l for l in before.splitlines() if l.startswith("#")]
    assert [l for l in after.splitlines() if l.startswith("#")][:len(comments)] == comments
    r = posthorn("conf", "-c", confdir, "-h", "smtpd_timeout")
    assert r.stdout == "1m\n"


def test_edit_refuses_bad_values_and_unknown_names(posthorn, confdir):
    main = confdir / "main.cf"
    before = main.read_text()
    for arg, why in [("smtpd_timeout=5x", '"5x" is not a time'),
                     ("smtpd_timout=5s", "unknown parameter"),
                     ("myhostname=$myhostname", "loop"),
                     ("novalue", "expected name=value")]:
        r = posthorn("conf", "-c", confdir, "-e", arg)
        assert r.returncode == 64, arg
        assert why in r.stderr, (arg, r.stderr)
        assert main.read_text() == before


def test_remove_a_parameter(posthorn, confdir):
    r = posthorn("conf", "-c", confdir, "-X", "home_mailbox")
    assert r.returncode == 0, r.stderr
    assert "home_mailbox" not in (confdir / "main.cf").read_text()
    r = posthorn("conf", "-c", confdir, "-n")
    assert "home_mailbox" not in r.stdout
    # mua_client_restrictions is used by master.cf: removing it would break it.
    r = posthorn("conf", "-c", confdir, "-X", "mua_client_restrictions")
    assert r.returncode == 64
    assert "$mua_client_restrictions: unknown parameter" in r.stderr


def test_master_entries(posthorn):
    r = posthorn("conf", "-c", CONF, "-M")
    assert r.returncode == 0, r.stderr
    keys = [tuple(l.split()[:2]) for l in r.stdout.splitlines()]
    for k in [("smtp", "inet"), ("submission", "inet"), ("submissions", "inet"), ("pickup", "unix"),
              ("qmgr", "unix"), ("smtp", "unix"), ("local", "unix"), ("auth", "unix"),
              ("pop3", "inet"), ("imap", "inet")]:
        assert k in keys
    r = posthorn("conf", "-c", CONF, "-M", "submission/inet")
    assert r.stdout.startswith("submission inet  n       -       n       -       -       smtpd -o ")
    assert "-o smtpd_tls_security_level=encrypt" in r.stdout
    r = posthorn("conf", "-c", CONF, "-M", "nosuch/inet")
    assert r.returncode == 64


def test_master_edit_add_and_remove(posthorn, confdir):
    master = confdir / "master.cf"
    before = master.read_text()
    r = posthorn("conf", "-c", confdir, "-Me",
                 "smtp/inet=smtp inet n - n - 20 smtpd -o smtpd_timeout=60s")
    assert r.returncode == 0, r.stderr
    r = posthorn("conf", "-c", confdir, "-M", "smtp/inet")
    assert r.stdout.split()[6] == "20"
    assert "-o smtpd_timeout=60s" in r.stdout
    r = posthorn("conf", "-c", confdir, "-Me", "127.0.0.1:2525/inet=127.0.0.1:2525 inet n - n - - smtpd")
    assert r.returncode == 0, r.stderr
    assert master.read_text().endswith("127.0.0.1:2525 inet n - n - - smtpd\n")
    r = posthorn("conf", "-c", confdir, "-MX", "127.0.0.1:2525/inet")
    assert r.returncode == 0, r.stderr
    assert "2525" not in master.read_text()
    # The header comments survive every edit.
    assert master.read_text().split("smtp ")[0] == before.split("smtp ")[0]


def test_master_edit_is_checked(posthorn, confdir):
    master = confdir / "master.cf"
    before = master.read_text()
    cases = [
        ("smtp/inet=smtp inet n - n - - smtpd -o smtpd_timeout=5x", '"5x" is not a time'),
        ("smtp/inet=smtp inet n - n - lots smtpd", 'maxproc: "lots"'),
        ("smtp/inet=submission inet n - n - - smtpd", "must start with"),
        ("25/inet=25 inet n - n - - smtpd", "duplicate"),
    ]
    for arg, why in cases:
        r = posthorn("conf", "-c", confdir, "-Me", arg)
        assert r.returncode == 64, arg
        assert why in r.stderr, (arg, r.stderr)
        assert master.read_text() == before
    r = posthorn("conf", "-c", confdir, "-MX", "nosuch/unix")
    assert r.returncode == 64


def test_edit_repairs_a_broken_file(posthorn, confdir):
    main = confdir / "main.cf"
    main.write_text("smtpd_timeout = 5x\n")
    r = posthorn("conf", "-c", confdir, "-e", "smtpd_timeout=5s")
    assert r.returncode == 0, r.stderr
    assert main.read_text() == "smtpd_timeout = 5s\n"


def test_usage_errors(posthorn):
    assert posthorn("conf", "-n", "-d", "-c", CONF).returncode == 64
    assert posthorn("conf", "-q").returncode == 64
    assert posthorn("conf", "-e", "-c", CONF).returncode == 64
