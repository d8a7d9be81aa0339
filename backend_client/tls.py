"""What the kiosk trusts for the platform's TLS, and a refused certificate in words a technician can act on.

Shared by the platform client (its errors reach the heartbeat, the outbox and
``kiosk platform ping``) and the diagnostics' TLS check, so both trust the same
CAs and say the same thing about the same certificate. Verification is never
switchable off: ``platform.ca_file`` only chooses which CAs are trusted.
"""

from __future__ import annotations

import ssl

import requests.certs

# OpenSSL's X509_V_ERR_* codes (openssl/x509_vfy.h) that call for a different fix than "trust the CA".
_NOT_YET_VALID = 9
_EXPIRED = 10
_NAME_MISMATCH = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH

NEVER_OFF = "never turn certificate verification off"


def ca_bundle(ca_file: str | None) -> str:
    """The one PEM bundle the client trusts: platform.ca_file, else requests' default (certifi)."""
    return ca_file or requests.certs.where()


def trust_context(ca_file: str | None) -> ssl.SSLContext:
    """A client context trusting exactly what PlatformClient trusts, with host name checking on."""
    return ssl.create_default_context(cafile=ca_bundle(ca_file))


def find_cert_error(err: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure inside requests'/urllib3's wrappers, if that is what this is."""
    seen: set[int] = set()
    todo: list[object] = [err]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return e
        # requests wraps urllib3's MaxRetryError in args; that one keeps the ssl error in .reason.
        todo += [*e.args, getattr(e, "reason", None), e.__cause__, e.__context__]
    return None


def describe_cert_failure(
    err: ssl.SSLCertVerificationError, host: str, ca_file: str | None
) -> tuple[str, str]:
    """(finding, hint) for a refused platform certificate; each hint names platform.ca_file."""
    why = (err.verify_message or err.reason or str(err)).rstrip(".")
    code = err.verify_code
    if code == _EXPIRED:
        return (
            f"the platform's TLS certificate for {host} has expired ({why})",
            "Check the kiosk's clock (`timedatectl`); if it is right, the platform's operator must renew the "
            f"certificate. platform.ca_file only chooses the trusted CAs and cannot fix an expired certificate; {NEVER_OFF}.",
        )
    if code == _NOT_YET_VALID:
        return (
            f"the platform's TLS certificate for {host} is not valid yet ({why})",
            "The kiosk's clock is probably behind: fix its time synchronisation (`timedatectl`). "
            f"platform.ca_file cannot fix this; {NEVER_OFF}.",
        )
    if code in _NAME_MISMATCH:
        return (
            f"the platform's TLS certificate does not name {host}: hostname mismatch ({why})",
            "Use the host name the platform's certificate names in platform.endpoint (ask the platform's "
            f"operator). platform.ca_file only chooses the trusted CAs and cannot fix a mismatch; {NEVER_OFF}.",
        )
    finding = f"the platform's TLS certificate for {host} is not trusted ({why})"
    if ca_file:
        return finding, (
            f"platform.ca_file ({ca_file}) does not hold the CA that issued the platform's certificate: "
            f"get that CA's PEM file from the platform's operator; {NEVER_OFF}."
        )
    return finding, (
        "If the platform's certificate is issued by a government CA the system does not know, set "
        f"platform.ca_file to that CA's PEM file (it replaces the default CA list); {NEVER_OFF}."
    )
