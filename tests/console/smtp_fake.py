"""A minimal SMTP server on loopback (no AUTH, no TLS) that keeps what it receives, so the
alerts' SMTP delivery crosses a real socket."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    data: str = ""


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        message = Received()
        self.reply("220 fake-smtp ready")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 fake-smtp")
            elif verb == "MAIL":
                message.sender = line.split(":", 1)[1].strip(" <>")
                self.reply("250 ok")
            elif verb == "RCPT":
                message.recipients.append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while (body := self.rfile.readline().decode()) not in (".\r\n", ""):
                    lines.append(body)
                message.data = "".join(lines)
                self.server.received.append(message)
                message = Received()
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")  # RSET, NOOP


class FakeSmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.port = self.server_address[1]

    def start(self) -> FakeSmtpServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
