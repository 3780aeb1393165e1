"""`posthorn map`: building, querying and editing lookup tables from the
command line, and reading tables Postfix built (and Postfix reading ours)."""
import os
import shutil
import subprocess
import time

import pytest

POSTMAP = "/usr/sbin/postmap"
SOURCE = (
    "# virtual\n"
    "Joe@Example.org   joe\n"
    "list@example.org  a@example.net,\n"
    "    b@example.net\n"
    "@example.com      catchall\n"
)
EXPECT = {
    "joe@example.org": "joe",
    "JOE@EXAMPLE.ORG": "joe",
    "list@example.org": "a@example.net,    b@example.net",
    "@example.com": "catchall",
}


def has_bdb(posthorn, tmp_path):
    probe = tmp_path / "probe"
    probe.write_text("k v\n")
    r = posthorn("map", "build", f"hash:{probe}")
    if r.returncode != 0:
        assert "use lmdb: instead" in r.stderr
        return False
    return True


def types_built(posthorn, tmp_path):
    return (["hash", "btree"] if has_bdb(posthorn, tmp_path) else []) + ["lmdb"]


@pytest.mark.parametrize("kind", ["hash", "btree", "lmdb", "texthash"])
def test_build_then_query_round_trips(posthorn, tmp_path, kind):
    if kind in ("hash", "btree") and not has_bdb(posthorn, tmp_path):
        pytest.skip("built without Berkeley DB")
    src = tmp_path / "virtual"
    src.write_text(SOURCE)
    r = posthorn("map", "build", f"{kind}:{src}")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    suffix = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "texthash": None}[kind]
    if suffix:
        assert (tmp_path / ("virtual" + suffix)).exists()
    for key, value in EXPECT.items():
        q = posthorn("map", "query", f"{kind}:{src}", key)
        assert q.returncode == 0, q.stderr
        assert q.stdout == value + "\n"
    # No temporary file is left beside the table.
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp." in p.name) == []


def test_query_not_found_exits_1(posthorn, tmp_path):
    src = tmp_path / "t"
    src.write_text("a 1\nb 2\n")
    assert posthorn("map", "build", f"lmdb:{src}").returncode == 0
    r = posthorn("map", "query", f"lmdb:{src}", "nope")
    assert r.returncode == 1
    assert r.stdout == ""
    both = posthorn("map", "query", f"lmdb:{src}", "a", "nope", "b")
    assert both.returncode == 0
    assert both.stdout == "a\t1\nb\t2\n"


def test_default_type_and_case_sensitive_option(posthorn, tmp_path):
    src = tmp_path / "t"
    src.write_text("Key value\n")
    assert posthorn("map", "build", src).returncode == 0
    default = "hash" if has_bdb(posthorn, tmp_path) else "lmdb"
    assert (tmp_path / ("t.db" if default == "hash" else "t.lmdb")).exists()
    assert posthorn("map", "query", src, "KEY").stdout == "value\n"
    assert posthorn("map", "-f", "build", f"lmdb:{src}").returncode == 0
    assert posthorn("map", "-f", "query", f"lmdb:{src}", "Key").stdout == "value\n"
    assert posthorn("map", "-f", "query", f"lmdb:{src}", "key").returncode == 1


def test_warnings_name_file_and_line(posthorn, tmp_path):
    src = tmp_path / "t"
    src.write_text("a 1\nlonely\na 2\n")
    r = posthorn("map", "build", f"lmdb:{src}")
    assert r.returncode == 0
    assert f"warning: {src}, line 2: expected format: key whitespace value" in r.stderr
    assert f"warning: {src}, line 3: duplicate entry: \"a\"" in r.stderr
    assert posthorn("map", "query", f"lmdb:{src}", "a").stdout == "1\n"


def test_delete(posthorn, tmp_path):
    src = tmp_path / "t"
    src.write_text("a 1\nb 2\n")
    for kind in types_built(posthorn, tmp_path):
        spec = f"{kind}:{src}"
        assert posthorn("map", "build", spec).returncode == 0
        assert posthorn("map", "delete", spec, "A").returncode == 0
        assert posthorn("map", "query", spec, "a").returncode == 1
        assert posthorn("map", "query", spec, "b").stdout == "2\n"
        assert posthorn("map", "delete", spec, "a").returncode == 1
        (tmp_path / "t.db").unlink(missing_ok=True)


def test_build_aliases(posthorn, tmp_path):
    src = tmp_path / "aliases"
    src.write_text(
        "# aliases\n"
        "Postmaster: root\n"
        "root: joe,\n"
        "   |\"/usr/bin/procmail -a x\", /var/mail/archive\n"
        "\"John Doe\": :include:/etc/posthorn/jd\n"
        "x@y: z\n"
    )
    r = posthorn("map", "build-aliases", f"lmdb:{src}")
    assert r.returncode == 0
    assert f"{src}, line 6: name must be local" in r.stderr
    want = {
        "postmaster": "root",
        "root": "joe, |\"/usr/bin/procmail -a x\", /var/mail/archive",
        "john doe": ":include:/etc/posthorn/jd",
        "@": "@",
    }
    for key, value in want.items():
        q = posthorn("map", "query", f"lmdb:{src}", key)
        assert (q.returncode, q.stdout) == (0, value + "\n")


def test_errors(posthorn, tmp_path):
    r = posthorn("map", "query", f"cdb:{tmp_path}/x", "k")
    assert r.returncode == 78
    assert "known types:" in r.stderr and "lmdb" in r.stderr
    r = posthorn("map", "build", f"lmdb:{tmp_path}/absent")
    assert r.returncode == 66
    (tmp_path / "bad.lmdb").write_bytes(b"not a table at all\n" * 100)
    r = posthorn("map", "query", f"lmdb:{tmp_path}/bad", "k")
    assert r.returncode == 65
    assert "bad.lmdb" in r.stderr
    re_file = tmp_path / "re"
    re_file.write_text("/ok/ x\n/a(/ y\n")
    r = posthorn("map", "query", f"regexp:{re_file}", "k")
    assert r.returncode == 65
    assert f"{re_file}, line 2: bad regular expression" in r.stderr
    assert posthorn("map", "frob", "x").returncode == 64
    assert posthorn("map", "query", "lmdb:x").returncode == 64


def test_pattern_and_inline_tables(posthorn, tmp_path):
    re_file = tmp_path / "re"
    re_file.write_text("/^(.*)@old\\.example$/ $1@new.example\n")
    q = posthorn("map", "query", f"regexp:{re_file}", "Joe@OLD.example")
    assert (q.returncode, q.stdout) == (0, "Joe@new.example\n")
    q = posthorn("map", "query", "inline:{a=1, { b = two words }}", "B")
    assert q.stdout == "two words\n"
    q = posthorn("map", "query", "static:{OK fine}", "anything")
    assert q.stdout == "OK fine\n"


needs_postfix = pytest.mark.skipif(not os.path.exists(POSTMAP), reason="Postfix's postmap absent")


def postfix_conf(tmp_path):
    """An empty main.cf for Postfix's tools, dated an hour back: Postfix waits
    for a main.cf changed within the last seconds to settle."""
    conf = tmp_path / "postfix-conf"
    conf.mkdir(exist_ok=True)
    main_cf = conf / "main.cf"
    if not main_cf.exists():
        main_cf.touch()
        old = time.time() - 3600
        os.utime(main_cf, (old, old))
    return conf


def postmap(tmp_path, *args):
    return subprocess.run([POSTMAP, "-c", str(postfix_conf(tmp_path)), *args],
                          capture_output=True, text=True, timeout=60)


def postfix_types(posthorn, tmp_path):
    kinds = types_built(posthorn, tmp_path)
    if "lmdb" in kinds:
        probe = tmp_path / "pfprobe"
        probe.write_text("k v\n")
        if postmap(tmp_path, f"lmdb:{probe}").returncode != 0:
            kinds.remove("lmdb")  # postfix-lmdb not installed
    return kinds


@needs_postfix
def test_tables_built_by_postmap_answer_the_same(posthorn, tmp_path):
    for kind in postfix_types(posthorn, tmp_path):
        src = tmp_path / f"pf-{kind}"
        src.write_text(SOURCE)
        r = postmap(tmp_path, f"{kind}:{src}")
        assert r.returncode == 0, r.stderr
        for key, value in EXPECT.items():
            q = posthorn("map", "query", f"{kind}:{src}", key)
            assert (q.returncode, q.stdout) == (0, value + "\n"), (kind, key, q.stderr)
        assert posthorn("map", "query", f"{kind}:{src}", "absent@example.org").returncode == 1


@needs_postfix
def test_postmap_reads_our_tables(posthorn, tmp_path):
    for kind in postfix_types(posthorn, tmp_path):
        src = tmp_path / f"ph-{kind}"
        src.write_text(SOURCE)
        assert posthorn("map", "build", f"{kind}:{src}").returncode == 0
        for key, value in EXPECT.items():
            q = postmap(tmp_path, "-q", key, f"{kind}:{src}")
            assert (q.returncode, q.stdout) == (0, value + "\n"), (kind, key, q.stderr)
        assert postmap(tmp_path, "-q", "absent", f"{kind}:{src}").returncode == 1


@needs_postfix
def test_aliases_built_by_postalias_answer_the_same(posthorn, tmp_path):
    postalias = shutil.which("postalias") or "/usr/sbin/postalias"
    kinds = postfix_types(posthorn, tmp_path)
    src_text = "Root: a, b\n  c\n\"Foo Bar\": |\"cmd x\"\nd: x ,  y\n"
    want = {"root": "a, b c", "foo bar": "|\"cmd x\"", "d": "x, y", "@": "@"}
    conf = postfix_conf(tmp_path)
    for kind in kinds:
        theirs = tmp_path / f"pa-{kind}"
        ours = tmp_path / f"ph-aliases-{kind}"
        theirs.write_text(src_text)
        ours.write_text(src_text)
        r = subprocess.run([postalias, "-c", str(conf), f"{kind}:{theirs}"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert posthorn("map", "build-aliases", f"{kind}:{ours}").returncode == 0
        for key, value in want.items():
            for table in (theirs, ours):
                q = posthorn("map", "query", f"{kind}:{table}", key)
                assert (q.returncode, q.stdout) == (0, value + "\n"), (kind, table, key)


REGEXP = r"""# a regexp table exercising substitution, negation and if/endif
/^(.*)-(outgoing)@(.*)$/ ${1}@$3 ($2) $$5
/^(a)|(b)$/ [$1][$2]
if /@example\.org$/
/^postmaster@/ pm
if !/^a/
/^b/ b-in-example
endif
/^a/ a-in-example
endif
/^b/ b-elsewhere
/^c/!/^cd/ c-not-cd
/^X+$/x basic
|^/usr/| usr
/^long$/ part one
   part two
"""


@needs_postfix
def test_regexp_answers_as_postfix_does(posthorn, tmp_path):
    table = tmp_path / "re"
    table.write_text(REGEXP)
    keys = ["Joe-outgoing@Example.org", "b", "postmaster@example.org", "postmaster@other.org",
            "b@example.org", "a@example.org", "b@other.org", "ce", "cd", "X+", "XX", "/usr/bin",
            "long", "nothing"]
    for key in keys:
        theirs = postmap(tmp_path, "-q", key, f"regexp:{table}")
        ours = posthorn("map", "query", f"regexp:{table}", key)
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), key


def test_query_keys_from_stdin(posthorn, tmp_path):
    src = tmp_path / "t"
    src.write_text("a@x.org 1\nb@x.org 2\n")
    assert posthorn("map", "build", f"lmdb:{src}").returncode == 0
    r = posthorn("map", "query", f"lmdb:{src}", "-", input="b@x.org\nnobody@x.org\r\nA@X.ORG\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "b@x.org\t2\nA@X.ORG\t1\n"
    r = posthorn("map", "query", f"lmdb:{src}", "-", input="nobody@x.org\n")
    assert r.returncode == 1 and r.stdout == ""


def test_default_type_comes_from_main_cf(posthorn, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "main.cf").write_text("default_database_type = lmdb\n")
    src = tmp_path / "t"
    src.write_text("k v\n")
    r = posthorn("-c", conf, "map", "build", src)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "t.lmdb").exists()
    assert not (tmp_path / "t.db").exists()
    assert posthorn("map", "-c", conf, "query", src, "k").stdout == "v\n"


def test_broken_main_cf_is_reported_not_ignored(posthorn, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "main.cf").write_text("default_database_typo = lmdb\n")
    src = tmp_path / "t"
    src.write_text("k v\n")
    r = posthorn("-c", conf, "map", "build", src)
    assert r.returncode == 78
    assert "main.cf:1" in r.stderr and "default_database_typo" in r.stderr
