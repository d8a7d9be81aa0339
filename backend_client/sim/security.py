"""The platform's side of WS-Security: UsernameToken with PasswordDigest, Created window, nonce replay."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from backend_client.wsdl import PASSWORD_DIGEST, SOAP_ENV, WSSE, WSU

CREATED_WINDOW_S = 300
NONCE_MEMORY_S = 15 * 60


class AuthError(Exception):
    """The token is refused; the message says why (for the platform's log, and the fault)."""


@dataclass
class SimUser:
    """A platform account: its password and the kiosks registered to it."""

    password: str
    kiosk_ids: set[str] = field(default_factory=set)


def users_from(spec: Mapping[str, SimUser | tuple[str, Iterable[str]]]) -> dict[str, SimUser]:
    """Accept {"user": SimUser(...)} or the short form {"user": ("password", ["KIOSK-ID", ...])}."""
    out = {}
    for name, u in spec.items():
        out[name] = u if isinstance(u, SimUser) else SimUser(u[0], set(u[1]))
    return out


def _parse_created(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("Created has no time zone")
    return value


class TokenChecker:
    """Checks UsernameTokens; remembers nonces for 15 minutes."""

    def __init__(self, users: dict[str, SimUser]) -> None:
        self.users = users
        self._nonces: dict[bytes, dt.datetime] = {}
        self._lock = threading.Lock()

    def check(self, envelope: etree._Element, now: dt.datetime) -> str:
        """The authenticated user name, or AuthError."""
        token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            raise AuthError("no WS-Security UsernameToken")
        username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        pw = token.find(f"{{{WSSE}}}Password")
        nonce_text = token.findtext(f"{{{WSSE}}}Nonce")
        created_text = token.findtext(f"{{{WSU}}}Created")
        if pw is None or pw.get("Type") != PASSWORD_DIGEST:
            raise AuthError("password must be a #PasswordDigest")
        if not nonce_text or not created_text:
            raise AuthError("Nonce and Created are required")
        try:
            nonce = base64.b64decode(nonce_text.strip(), validate=True)
            created = _parse_created(created_text)
        except (binascii.Error, ValueError) as err:
            raise AuthError(f"unreadable Nonce or Created: {err}") from None
        if len(nonce) < 16:
            raise AuthError("Nonce must hold at least 16 random bytes")
        if abs((now - created).total_seconds()) > CREATED_WINDOW_S:
            raise AuthError(
                f"Created {created_text.strip()} is more than {CREATED_WINDOW_S} s from the platform clock"
            )
        user = self.users.get(username)
        if user is None:
            raise AuthError("unknown user")
        expected = base64.b64encode(
            hashlib.sha1(nonce + created_text.strip().encode() + user.password.encode()).digest()  # noqa: S324 - WSS 1.0
        ).decode("ascii")
        if not hmac.compare_digest(expected, (pw.text or "").strip()):
            raise AuthError("wrong password digest")
        # Only a token that authenticates consumes its nonce: a forged one must not lock out the real sender.
        with self._lock:
            horizon = now - dt.timedelta(seconds=NONCE_MEMORY_S)
            # Insertion order is arrival order, so expired nonces sit at the front.
            while self._nonces:
                oldest = next(iter(self._nonces))
                if self._nonces[oldest] >= horizon:
                    break
                del self._nonces[oldest]
            if nonce in self._nonces:
                raise AuthError("nonce replayed")
            self._nonces[nonce] = now
        return username

    def remembered(self) -> int:
        """How many nonces are held: those of the last 15 minutes (the latest prune), whatever the uptime."""
        with self._lock:
            return len(self._nonces)

    def owns(self, username: str, kiosk_id: str) -> bool:
        """Whether the kiosk is registered to the user."""
        user = self.users.get(username)
        return user is not None and kiosk_id in user.kiosk_ids
