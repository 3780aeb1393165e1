"""master and `posthorn start|stop|reload|status`: real processes on loopback.

The services are echod (t/progs/echod), a lib/service program that greets
with its mail_name, pid and configuration generation and echoes lines.
"""
import os
import signal
import socket
import subprocess

import pytest

from instance import BUILD, EchoClient, Instance, free_port, pid_alive, wait_for


@pytest.fixture
def make_instance(tmp_path):
    made = []

    def make(main=None, services=()):
        inst = Instance(tmp_path / f"inst{len(made)}", main, services)
        made.append(inst)
        return inst
    yield make
    left = []
    for inst in made:
        left += inst.teardown()
    assert not left, f"processes left behind: {left}"


def echo_instance(make_instance, **main):
    port = free_port()
    inst = make_instance(main, [Instance.echo_service(port)])
    return inst, port


def test_start_status_stop_leaves_no_process(make_instance):
    inst, port = echo_instance(make_instance)
    assert inst.posthorn("status").returncode == 1
    inst.start()
    r = inst.posthorn("status")
    assert r.returncode == 0 and "running" in r.stdout
    c = EchoClient(port)
    assert c.ask("hello") == "echo: hello"
    pids = [inst.master_pid(), *inst.children()]
    assert c.pid in pids
    c.close()
    r = inst.stop()
    assert r.returncode == 0, r.stderr
    assert [p for p in pids if pid_alive(p)] == []
    assert inst.posthorn("status").returncode == 1
    assert "daemon started -- version" in inst.log()


def test_second_start_on_the_same_spool_is_refused(make_instance):
    inst, _ = echo_instance(make_instance)
    inst.start()
    r = inst.posthorn("start")
    assert r.returncode == 1
    assert "already running" in r.stderr
    # master itself refuses too, naming the running master.
    m = subprocess.run([str(BUILD / "bin" / "master"), "-c", str(inst.dir)],
                       capture_output=True, text=True, timeout=30)
    assert m.returncode == 1
    assert f"already running (master pid {inst.master_pid()}" in m.stderr
    assert inst.running()


def test_killed_child_is_replaced_and_the_service_keeps_answering(make_instance):
    inst, port = echo_instance(make_instance)
    inst.start()
    c = EchoClient(port)
    victim = c.pid
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: not pid_alive(victim), what="the killed child to go")
    c.close()
    d = EchoClient(port)
    assert d.pid != victim
    assert d.ask("still there") == "echo: still there"
    d.close()
    inst.wait_log(f"pid {victim} killed by signal 9")
    assert "throttling" not in inst.log()  # a crash in a session pauses nothing


def test_service_failing_at_startup_is_throttled_others_live_on(make_instance):
    good, bad = free_port(), free_port()
    inst = make_instance(None, [Instance.echo_service(good),
                                Instance.echo_service(bad, args="-x exit")])
    inst.start()
    # A connection makes master spawn the broken service; it stays queued.
    waiting = socket.create_connection(("127.0.0.1", bad), timeout=5)
    inst.wait_log(f"service 127.0.0.1:{bad}/inet: process")
    inst.wait_log("bad command startup -- throttling for 1s")
    inst.wait_log("throttling for 2s (2 failures in a row)")
    assert inst.running()
    c = EchoClient(good)
    assert c.ask("fine") == "echo: fine"
    c.close()
    waiting.close()


def test_reload_reaches_new_children_while_an_old_session_completes(make_instance):
    inst, port = echo_instance(make_instance, mail_name="before")
    inst.start()
    old = EchoClient(port)
    assert (old.mail_name, old.generation) == ("before", 1)
    inst.set(mail_name="after")
    assert inst.posthorn("reload").returncode == 0
    inst.wait_log("reload -- version")
    new = EchoClient(port)
    assert (new.mail_name, new.generation) == ("after", 2)
    assert new.pid != old.pid
    # The old child retired but still serves the session it had.
    assert old.ask("one more") == "echo: one more"
    assert old.ask("quit") == "221 bye"
    old.close()
    wait_for(lambda: not pid_alive(old.pid), what="the retired child to exit")
    new.close()


def test_reload_with_a_broken_configuration_keeps_the_running_one(make_instance):
    inst, port = echo_instance(make_instance)
    inst.start()
    c = EchoClient(port)
    good = (inst.dir / "main.cf").read_text()
    (inst.dir / "main.cf").write_text(good + "no_such_parameter = 1\n")
    assert inst.posthorn("reload").returncode == 78  # posthorn checks before signalling
    os.kill(inst.master_pid(), signal.SIGHUP)
    inst.wait_log("reload: the configuration has errors; keeping the running one")
    inst.wait_log("no_such_parameter: unknown parameter")
    assert pid_alive(inst.master_pid())
    assert c.ask("unharmed") == "echo: unharmed"  # the child was not told to retire
    c.close()
    (inst.dir / "main.cf").write_text(good)


def test_sigterm_lets_a_session_finish_then_stops_everything(make_instance):
    inst, port = echo_instance(make_instance)
    inst.start()
    c = EchoClient(port)
    master = inst.master_pid()
    pids = [master, *inst.children()]
    os.kill(master, signal.SIGTERM)
    inst.wait_log("terminating on signal 15")
    assert c.ask("in flight") == "echo: in flight"
    assert c.ask("quit") == "221 bye"
    c.close()
    wait_for(lambda: not any(pid_alive(p) for p in pids), what="every process to exit")
    assert not inst.running()


def test_start_with_a_bad_configuration_says_why(make_instance):
    inst, _ = echo_instance(make_instance)
    (inst.dir / "master.cf").write_text("broken line\n")
    r = inst.posthorn("start")
    assert r.returncode != 0
    assert "master.cf:1" in r.stderr


def test_start_reports_a_port_in_use(make_instance):
    port = free_port()
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    inst = make_instance(None, [Instance.echo_service(port)])
    r = inst.posthorn("start")
    holder.close()
    assert r.returncode == 1
    assert f"127.0.0.1:{port}" in r.stderr or f"127.0.0.1:{port}" in inst.log()
    assert "did not start" in r.stderr


def test_control_commands_have_help(make_instance):
    inst, _ = echo_instance(make_instance)
    for cmd in ("start", "stop", "reload", "status", "version"):
        r = inst.posthorn(cmd, "--help")
        assert r.returncode == 0 and r.stdout.startswith(f"usage: posthorn {cmd}")
    assert inst.posthorn("version").stdout.startswith("posthorn ")


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drops happen only when started as root")
def test_as_root_children_run_as_mail_owner_without_groups(make_instance):
    inst, port = echo_instance(make_instance)
    inst.start()
    c = EchoClient(port)
    assert c.ask("whoami") == "uid 65534 gid 65534 groups 0"
    status = dict(line.split(":", 1) for line in open(f"/proc/{c.pid}/status"))
    assert status["Uid"].split() == ["65534"] * 4
    assert status["Groups"].split() == []
    master = dict(line.split(":", 1) for line in open(f"/proc/{inst.master_pid()}/status"))
    assert master["Uid"].split() == ["0"] * 4
    c.close()


def test_wakeup_starts_a_process_and_wakes_it_periodically(make_instance):
    port = free_port()
    echod = BUILD / "t" / "progs" / "echod"
    inst = make_instance(None, [f"127.0.0.1:{port} inet n - n 1 1 {echod}"])
    inst.start()
    inst.wait_log("wakeup 1")  # at start, without any client
    inst.wait_log("wakeup 2", timeout=15)
    assert len(inst.children()) == 1


def test_unix_service_listens_in_private(make_instance):
    echod = BUILD / "t" / "progs" / "echod"
    inst = make_instance(None, [f"echo unix - - n - 1 {echod}"])
    inst.start()
    path = inst.dir / "spool" / "private" / "echo"
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(path))
    f = s.makefile("rwb")
    assert f.readline().startswith(b"220 ")
    f.write(b"over unix\r\n")
    f.flush()
    assert f.readline() == b"echo: over unix\r\n"
    s.close()


def test_max_use_retires_a_process_after_that_many_connections(make_instance):
    port = free_port()
    inst = make_instance(None, [Instance.echo_service(port, maxproc=1) + " -o max_use=2"])
    inst.start()
    first = [EchoClient(port) for _ in range(2)]
    assert first[0].pid == first[1].pid
    for c in first:
        c.close()
    wait_for(lambda: not pid_alive(first[0].pid), what="the used-up process to exit")
    c = EchoClient(port)
    assert c.pid != first[0].pid
    c.close()


def test_bare_port_listens_on_every_inet_interface(make_instance):
    port = free_port()
    echod = BUILD / "t" / "progs" / "echod"
    inst = make_instance({"inet_interfaces": "loopback-only"},
                         [f"{port} inet n - n - 2 {echod}"])
    inst.start()
    c = EchoClient(port)
    c.close()
    if socket.has_ipv6:
        try:
            s = socket.create_connection(("::1", port), timeout=10)
        except OSError as e:  # a host without IPv6 loopback: master warned and went on
            assert "no IPv6 on this host" in inst.log(), e
        else:
            assert s.recv(4) == b"220 "
            s.close()


def test_stop_is_bounded_when_a_session_does_not_end(make_instance):
    inst, port = echo_instance(make_instance)
    inst.start()
    c = EchoClient(port)  # stays open: the child cannot retire by itself
    pids = [inst.master_pid(), *inst.children()]
    r = inst.stop()  # master's bound is 10 s, then SIGTERM
    assert r.returncode == 0, r.stderr
    assert "sending SIGTERM" in inst.log()
    assert [p for p in pids if pid_alive(p)] == []
    c.close()
