"""A small DNS server on loopback for the smtp tests.

Serves a test zone over UDP and TCP on 127.0.0.1 and an ephemeral port, from
a thread, like a recursive resolver would answer: records of the asked type,
NODATA (NOERROR, no answer) for a known name without that type, NXDOMAIN for
an unknown name. Names in `servfail` get SERVFAIL, names in `silent` no
answer at all. Only MX, A, AAAA and PTR are served; the zone is a dict:

    {"example.test": [("MX", 10, "mx1.example.test")],
     "mx1.example.test": [("A", "127.0.0.2")],
     "nullmx.test": [("MX", 0, ".")],
     "2.0.0.127.in-addr.arpa": [("PTR", "client.test")]}

Posthorn is pointed at it with dns_nameservers = 127.0.0.1:PORT.
"""
import socket
import socketserver
import struct
import threading

TYPES = {"A": 1, "PTR": 12, "MX": 15, "AAAA": 28}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_name(data, pos):
    labels = []
    while True:
        n = data[pos]
        pos += 1
        if n == 0:
            return ".".join(labels).lower(), pos
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(data[pos:pos + n].decode("ascii", "replace"))
        pos += n


class Zone:
    def __init__(self, records, servfail=(), silent=()):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.servfail = {n.lower() for n in servfail}
        self.silent = {n.lower() for n in silent}
        self.queries = []

    def answer(self, query):
        """The reply bytes for a query, or None (silent)."""
        qid, flags, qd = struct.unpack("!HHH", query[:6])
        name, pos = decode_name(query, 12)
        qtype, qclass = struct.unpack("!HH", query[pos:pos + 4])
        question = query[12:pos + 4]
        self.queries.append((name, qtype))
        if name in self.silent:
            return None
        rd = flags & 0x0100
        rcode, answers = 0, []
        if name in self.servfail:
            rcode = 2
        elif name not in self.records:
            rcode = 3
        else:
            for rec in self.records[name]:
                if TYPES[rec[0]] != qtype:
                    continue
                if rec[0] == "A":
                    rdata = socket.inet_pton(socket.AF_INET, rec[1])
                elif rec[0] == "AAAA":
                    rdata = socket.inet_pton(socket.AF_INET6, rec[1])
                elif rec[0] == "PTR":
                    rdata = encode_name(rec[1])
                else:
                    rdata = struct.pack("!H", rec[1]) + encode_name(rec[2])
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rdata)) + rdata)
        header = struct.pack("!HHHHHH", qid, 0x8000 | rd | 0x0080 | rcode, 1, len(answers), 0, 0)
        return header + question + b"".join(answers)


class FakeDns:
    """Starts at construction; stop() ends both servers."""

    def __init__(self, records, servfail=(), silent=()):
        self.zone = Zone(records, servfail, silent)
        zone = self.zone

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                try:
                    reply = zone.answer(data)
                except (ValueError, IndexError, struct.error):
                    return
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    head = self.request.recv(2)
                    if len(head) < 2:
                        return
                    n = struct.unpack("!H", head)[0]
                    data = b""
                    while len(data) < n:
                        more = self.request.recv(n - len(data))
                        if not more:
                            return
                        data += more
                    reply = zone.answer(data)
                    if reply is not None:
                        self.request.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, ValueError, IndexError, struct.error):
                    return

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        # The UDP port the kernel picks may be taken for TCP (other tests run
        # on this machine at the same time): pick again.
        for attempt in range(50):
            self.udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Udp)
            self.port = self.udp.server_address[1]
            try:
                self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Tcp)
                break
            except OSError:
                self.udp.server_close()
                if attempt == 49:
                    raise
        for s in (self.udp, self.tcp):
            s.daemon_threads = True
            threading.Thread(target=s.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        for s in (self.udp, self.tcp):
            s.shutdown()
            s.server_close()
