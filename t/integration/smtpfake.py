"""Fake remote SMTP servers for the smtp tests.

FakeSmtp listens on one loopback address (127.0.0.x: all of 127/8 is
loopback on Linux) and speaks enough SMTP, with behaviour set per server:
what the greeting and EHLO say, a reply per recipient, the DATA and
end-of-data replies, stalls (no greeting, no reading mid-DATA), STARTTLS
with a given certificate (or a broken handshake), TLS from the first byte
(port 465 style), AUTH PLAIN/LOGIN, a
connection dropped after some messages. It
records what clients did: connections, commands, transactions.
"""
import base64
import socket
import ssl
import threading
import time


class Transaction:
    def __init__(self):
        self.mail = None
        self.rcpts = []
        self.data = None


class FakeSmtp:
    def __init__(self, ip, port, name="mx.test", greeting=None, extensions=None,
                 rcpt_reply=None, mail_reply="250 2.1.0 Ok", data_reply="354 End data with <CR><LF>.<CR><LF>",
                 end_reply=None, stall_greeting=False, stall_in_data=False, ehlo_refused=False,
                 tls_context=None, broken_tls=False, auth=None, close_after=0, implicit_tls=None):
        self.name = name
        self.greeting = greeting or f"220 {name} ESMTP fake"
        self.extensions = list(extensions if extensions is not None else
                               ["PIPELINING", "SIZE 10240000", "8BITMIME", "DSN", "SMTPUTF8"])
        if tls_context is not None or broken_tls:
            self.extensions.append("STARTTLS")
        if auth:
            self.extensions.append("AUTH PLAIN LOGIN")
        self.rcpt_reply = rcpt_reply or (lambda addr: "250 2.1.5 Ok")
        self.mail_reply = mail_reply
        self.data_reply = data_reply
        self.end_reply = end_reply
        self.stall_greeting = stall_greeting
        self.stall_in_data = stall_in_data
        self.ehlo_refused = ehlo_refused
        self.tls_context = tls_context
        self.broken_tls = broken_tls
        self.auth = auth or {}
        self.close_after = close_after  # drop the connection after this many messages (0: never)
        self.implicit_tls = implicit_tls  # an SSLContext: TLS from the first byte (port 465)
        self.connections = 0
        self.commands = []
        self.transactions = []
        self.tls_sessions = 0
        self.auth_users = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()

    def delivered(self):
        with self.lock:
            return [t for t in self.transactions if t.data is not None]

    # --- the server side ------------------------------------------------
    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _stall(self, conn):
        conn.settimeout(0.2)
        while not self.stopping.is_set():
            time.sleep(0.1)
        conn.close()

    def _serve(self, conn):
        try:
            self._session(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _session(self, conn):
        conn.settimeout(30)
        if self.stall_greeting:
            return self._stall(conn)
        if self.implicit_tls is not None:
            conn = self.implicit_tls.wrap_socket(conn, server_side=True)
            with self.lock:
                self.tls_sessions += 1
        f = conn.makefile("rwb")

        def send(line):
            f.write(line.encode() + b"\r\n")
            f.flush()

        send(self.greeting)
        if not self.greeting.startswith("220"):
            f.readline()
            return
        tx = None
        served = 0
        while True:
            raw = f.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                self.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                if self.ehlo_refused:
                    send("502 5.5.2 Error: command not recognized")
                    continue
                lines = [self.name] + self.extensions
                for i, l in enumerate(lines):
                    send(("250 " if i == len(lines) - 1 else "250-") + l)
            elif verb == "HELO":
                send(f"250 {self.name}")
            elif verb == "STARTTLS":
                send("220 2.0.0 Ready to start TLS")
                if self.broken_tls:  # answer the ClientHello with garbage
                    conn.recv(4096)
                    conn.sendall(b"this is not TLS\r\n" * 4)
                    return
                conn = self.tls_context.wrap_socket(conn, server_side=True)
                with self.lock:
                    self.tls_sessions += 1
                f = conn.makefile("rwb")
                self.extensions = [e for e in self.extensions if e != "STARTTLS"]
            elif verb == "AUTH":
                self._auth(line, f, send)
            elif verb == "MAIL":
                tx = Transaction() if self.mail_reply.startswith("2") else None
                if tx is not None:
                    tx.mail = line
                send(self.mail_reply)
            elif verb == "RCPT":
                addr = line.split("<", 1)[1].split(">", 1)[0]
                reply = self.rcpt_reply(addr)
                if tx is not None and reply.startswith("2"):
                    tx.rcpts.append(line)
                send(reply)
            elif verb == "DATA":
                if tx is None or not tx.rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                send(self.data_reply)
                if not self.data_reply.startswith("354"):
                    continue
                if self.stall_in_data:
                    return self._stall(conn)
                lines = []
                while True:
                    chunk = f.readline()
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    lines.append(chunk)
                tx.data = b"".join(lines)
                with self.lock:
                    self.transactions.append(tx)
                    n = len(self.transactions)
                send(self.end_reply or f"250 2.0.0 Ok: queued as FAKE{n}")
                tx = None
                served += 1
                if self.close_after and served >= self.close_after:
                    return  # as a server that drops idle connections
            elif verb == "BDAT":  # RFC 3030: exactly the announced octets follow
                words = line.split()
                size = int(words[1])
                chunk = f.read(size) if size else b""
                if len(chunk) < size:
                    return
                if tx is None or not tx.rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                tx.chunks = getattr(tx, "chunks", []) + [chunk]
                if len(words) > 2 and words[2].upper() == "LAST":
                    tx.data = b"".join(tx.chunks)
                    with self.lock:
                        self.transactions.append(tx)
                        n = len(self.transactions)
                    send(self.end_reply or f"250 2.0.0 Ok: queued as FAKE{n}")
                    tx = None
                else:
                    send(f"250 2.0.0 {size} octets received")
            elif verb == "RSET":
                tx = None
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                return
            else:
                send("502 5.5.2 Error: command not recognized")

    def _auth(self, line, f, send):
        parts = line.split()
        mech = parts[1].upper() if len(parts) > 1 else ""

        def ask(prompt):
            send("334 " + base64.b64encode(prompt).decode())
            return base64.b64decode(f.readline().strip())
        if mech == "PLAIN":
            token = base64.b64decode(parts[2]) if len(parts) > 2 else ask(b"")
            _, user, password = token.split(b"\0", 2)
        elif mech == "LOGIN":
            user = ask(b"Username:")
            password = ask(b"Password:")
        else:
            send("504 5.5.4 unsupported")
            return
        if self.auth.get(user.decode()) == password.decode():
            with self.lock:
                self.auth_users.append((mech, user.decode()))
            send("235 2.7.0 Authentication successful")
        else:
            send("535 5.7.8 Error: authentication failed")
