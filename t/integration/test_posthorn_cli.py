"""The `posthorn` command's dispatcher: usage and errors as an admin sees them."""


def test_no_command_prints_usage_and_exits_64(posthorn):
    r = posthorn()
    assert r.returncode == 64
    assert "usage: posthorn [-c DIR] COMMAND" in r.stderr


def test_unknown_command_is_named(posthorn):
    r = posthorn("frobnicate")
    assert r.returncode == 64
    assert 'unknown command "frobnicate"' in r.stderr


def test_help_lists_commands(posthorn):
    r = posthorn("-h")
    assert r.returncode == 0
    assert "usage:" in r.stdout
