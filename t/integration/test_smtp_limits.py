"""Integration tests of the smtp agent's choice of servers: 5xx greetings
(smtp_skip_5xx_greeting), the address and session limits of one delivery
(smtp_mx_address_limit, smtp_mx_session_limit), MX hosts without addresses
(smtp_defer_if_no_mx_address_found), and addresses from the system's name
service (smtp_host_lookup = native, smtp_dns_support_level = disabled).

The fixtures are test_smtp.py's: a real instance whose smtp agent asks the
fake DNS server, and fake remote servers on 127.0.0.x; t/progs/smtp_request
plays qmgr.
"""
from test_smtp import ZONE, env, send  # noqa: F401 (env is a fixture)


def test_5xx_greeting_tries_the_next_mx(env):
    e = env(ZONE, {"127.0.0.2": {"name": "mx1.example.test", "greeting": "554 5.3.2 mx1 is closed"},
                   "127.0.0.3": {"name": "mx2.example.test"}})
    _, res = send(e, "example.test", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"mx2.example.test[127.0.0.3]:{e.port}"
    assert "host mx1.example.test[127.0.0.2] refused to talk to me: 554 5.3.2 mx1 is closed" in e.inst.log()


def test_5xx_greeting_from_the_last_server_defers(env):
    # Postfix makes the skipped 5xx temporary: another attempt may find a
    # better server.
    e = env({"closed.test": [("A", "127.0.0.12")]},
            {"127.0.0.12": {"name": "closed.test", "greeting": "554 5.3.2 closed"}})
    _, res = send(e, "closed.test", "bob@closed.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.3.2")
    assert res[0]["text"] == "host closed.test[127.0.0.12] refused to talk to me: 554 5.3.2 closed"


def test_5xx_greeting_bounces_at_once_without_skip(env):
    e = env(ZONE, {"127.0.0.2": {"name": "mx1.example.test", "greeting": "554 5.3.2 mx1 is closed"},
                   "127.0.0.3": {"name": "mx2.example.test"}},
            main={"smtp_skip_5xx_greeting": "no"})
    _, res = send(e, "example.test", "bob@example.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.3.2")
    assert res[0]["relay"] == f"mx1.example.test[127.0.0.2]:{e.port}"
    assert e.servers["127.0.0.3"].connections == 0


def test_mx_session_limit_stops_after_that_many_sessions(env):
    # mx1 and mx2 answer MAIL with 451 (try elsewhere); mx3 would take it.
    zone = dict(ZONE)
    zone["example.test"] = ZONE["example.test"] + [("MX", 30, "mx3.example.test")]
    zone["mx3.example.test"] = [("A", "127.0.0.13")]
    busy = {"mail_reply": "451 4.3.0 busy"}
    servers = {"127.0.0.2": {"name": "mx1.example.test", **busy},
               "127.0.0.3": {"name": "mx2.example.test", **busy},
               "127.0.0.13": {"name": "mx3.example.test"}}
    e = env(zone, servers, main={"smtp_mx_session_limit": "2"})
    _, res = send(e, "example.test", "bob@example.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.3.0")
    assert e.servers["127.0.0.13"].connections == 0
    e2 = env(zone, servers, main={"smtp_mx_session_limit": "0"})  # no limit
    _, res = send(e2, "example.test", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"mx3.example.test[127.0.0.13]:{e2.port}"


def test_mx_address_limit_caps_the_addresses_tried(env):
    # mx1 refuses connections; with one address allowed, mx2 is never tried.
    e = env(ZONE, {"127.0.0.3": {"name": "mx2.example.test"}}, main={"smtp_mx_address_limit": "1"})
    _, res = send(e, "example.test", "bob@example.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.4.1")
    assert e.servers["127.0.0.3"].connections == 0
    e2 = env(ZONE, {"127.0.0.3": {"name": "mx2.example.test"}}, main={"smtp_mx_address_limit": "2"})
    _, res = send(e2, "example.test", "bob@example.test")
    assert res[0]["status"] == "sent"


def test_mx_hosts_without_addresses_bounce_or_defer(env):
    zone = {"noaddr.test": [("MX", 10, "gone1.noaddr.test"), ("MX", 20, "gone2.noaddr.test")]}
    e = env(zone)
    _, res = send(e, "noaddr.test", "bob@noaddr.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.4.4")
    e2 = env(zone, main={"smtp_defer_if_no_mx_address_found": "yes"})
    _, res = send(e2, "noaddr.test", "bob@noaddr.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("deferred", "4.4.4")
    assert "gone" in res[0]["text"]


def test_native_host_lookup_without_dns(env):
    # "localhost" is not in the test zone; the system's name service
    # (/etc/hosts) knows it. The fake server listens on 127.0.0.1.
    e = env({}, {"127.0.0.1": {"name": "localhost"}})
    _, res = send(e, "[localhost]", "bob@example.test")
    assert (res[0]["status"], res[0]["dsn"]) == ("bounced", "5.4.4")  # DNS alone does not know it
    e2 = env({}, {"127.0.0.1": {"name": "localhost"}}, main={"smtp_host_lookup": "native"})
    _, res = send(e2, "[localhost]", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert res[0]["relay"] == f"localhost[127.0.0.1]:{e2.port}"
    assert e2.dns.zone.queries == []
    e3 = env({}, {"127.0.0.1": {"name": "localhost"}}, main={"smtp_host_lookup": "dns, native"})
    _, res = send(e3, "[localhost]", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert e3.dns.zone.queries  # DNS was asked first
    # DNS switched off: no MX lookup either.
    e4 = env({}, {"127.0.0.1": {"name": "localhost"}}, main={"smtp_dns_support_level": "disabled"})
    _, res = send(e4, "localhost", "bob@example.test")
    assert res[0]["status"] == "sent"
    assert e4.dns.zone.queries == []
