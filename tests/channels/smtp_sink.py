"""An SMTP server for the tests (aiosmtpd): every message it accepts becomes one JSON line in the
--out file. With --user and --password it requires AUTH (PLAIN or LOGIN, without TLS) and
refuses other credentials with 535.

Usage: smtp_sink.py --port PORT --out FILE [--user NAME --password SECRET]
Runs until killed.
"""

import argparse
import json
import signal
import sys
import warnings
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        auth = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": auth.login.decode("utf-8") if isinstance(auth, LoginPassword) else None,
            "subject": str(msg["subject"]) if msg["subject"] is not None else None,
            "from": str(msg["from"]) if msg["from"] is not None else None,
            "to": str(msg["to"]) if msg["to"] is not None else None,
            "bcc": str(msg["bcc"]) if msg["bcc"] is not None else None,
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset(),
            "body": msg.get_content() if not msg.is_multipart() else None,
            "raw": raw.decode("utf-8", errors="replace"),
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode("utf-8")
            and auth_data.password == password.encode("utf-8")
        )
        # handled=False: aiosmtpd answers 535 itself when the check fails.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    if (a.user is None) != (a.password is None):
        p.error("give both --user and --password, or neither")

    kwargs = {}
    if a.user is not None:
        # AUTH without TLS is what these tests want.
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        kwargs = {
            "authenticator": authenticator(a.user, a.password),
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(Sink(a.out), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print(f"listening on 127.0.0.1:{a.port}", flush=True)

    def stop(*_):
        controller.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
