"""Where a webhook may point, and the one HTTP POST a delivery or a test makes.

Rules (MLflow 3.17's ``_validate_webhook_url`` and messages): the scheme must be in
``MLFLOW_WEBHOOK_ALLOWED_SCHEMES`` (https by default), the URL needs a host, and the host must
resolve to public addresses only, unless ``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS`` is on.

The check is repeated at every send, and the connection goes to the very addresses that passed
it (no second DNS lookup), so a name that re-resolves to a private address after validation
(DNS rebinding) cannot reach internal services. TLS still verifies the certificate against the
host name. Redirects are not followed (a redirect could point anywhere); proxies are not used.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from config.errors import InvalidParameterValueError

RESOLVE_TIMEOUT_SECONDS: Final = 5.0
MAX_RESPONSE_BODY_BYTES: Final = 64 * 1024
NAT64_PREFIX: Final = ipaddress.IPv6Network("64:ff9b::/96")

# Name lookups run here so a slow resolver costs a request at most RESOLVE_TIMEOUT_SECONDS.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-resolve")


class UnresolvableHostError(InvalidParameterValueError):
    """The host name does not resolve (now): refused when saving, retried when delivering."""


class ForbiddenTargetError(InvalidParameterValueError):
    """The URL may not be called at all (scheme, host, non-public address): never retried."""


@dataclass(frozen=True)
class TargetResponse:
    """What the receiver answered: status, the start of the body, and ``Retry-After`` (s)."""

    status: int
    body: str
    retry_after_seconds: float | None


def _embedded_ipv4(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address an IPv6 transition address (mapped, 6to4, NAT64) carries, else ``ip``:
    a wrapped private address must not pass as global."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded
    return ip


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``ip`` is a globally routable unicast address (not loopback, private,
    link-local, shared, multicast, reserved or unspecified)."""
    address = _embedded_ipv4(ip)
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
    )


def _split(url: str) -> tuple[SplitResult, str, int]:
    """The parts, host and port of an allowed URL, or MLflow's message for why not."""
    if not url.strip():
        raise ForbiddenTargetError(f"Webhook URL cannot be empty or just whitespace: {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ForbiddenTargetError(f"Invalid webhook URL {url!r}: {error!r}") from None
    schemes = settings.MLFLOW_WEBHOOK_ALLOWED_SCHEMES
    if parts.scheme not in schemes:
        raise ForbiddenTargetError(
            f"Invalid webhook URL scheme: {parts.scheme!r}. "
            f"Allowed schemes are: {', '.join(schemes)}."
        )
    hostname = parts.hostname
    if not hostname:
        raise ForbiddenTargetError(f"Webhook URL must include a hostname: {url!r}")
    if ":" in hostname or hostname.replace(".", "").isdigit():
        # Legacy spellings (127.1, 0177.0.0.1) mean different hosts to different parsers.
        try:
            ipaddress.ip_address(hostname)
        except ValueError:
            raise ForbiddenTargetError(
                f"Webhook URL host {hostname!r} is not a canonical IP address literal."
            ) from None
    return parts, hostname, port or (443 if parts.scheme == "https" else 80)


def _addresses(hostname: str, port: int) -> list[str]:
    """The addresses ``hostname`` resolves to, all of them public unless private targets are
    allowed; in resolver order, without repeats."""
    future = _resolver.submit(socket.getaddrinfo, hostname, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=RESOLVE_TIMEOUT_SECONDS)
    except FutureTimeoutError:
        raise UnresolvableHostError(
            f"Timed out resolving Webhook URL hostname {hostname!r} after "
            f"{RESOLVE_TIMEOUT_SECONDS:g} seconds"
        ) from None
    except (OSError, UnicodeError, ValueError) as error:
        raise UnresolvableHostError(
            f"Cannot resolve Webhook URL hostname {hostname!r}: {error}"
        ) from None
    addresses: list[str] = []
    for *_, sockaddr in infos:
        text = str(sockaddr[0])
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if not settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS and not is_public_address(ip):
            raise ForbiddenTargetError(
                "Webhook URL must not resolve to a non-public IP address. "
                f"{hostname!r} resolves to {ip}."
            )
        if text not in addresses:
            addresses.append(text)
    return addresses


def validate_webhook_url(url: str) -> None:
    """Refuse a URL a webhook may not have (at create and update), with MLflow's messages.

    With private targets allowed nothing is resolved, as in the reference."""
    _, hostname, port = _split(url)
    if not settings.MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS:
        _addresses(hostname, port)


@lru_cache(maxsize=4)
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    """Certificate and host name verification against the system store or ``ca_bundle``."""
    return ssl.create_default_context(cafile=ca_bundle or None)


def _open_socket(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers."""
    last_error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as error:
            last_error = error
    raise last_error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to pre-checked addresses (only when ``http`` is an allowed scheme)."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _open_socket(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """HTTPS to pre-checked addresses; the certificate is verified for the URL's host."""

    default_port = 443

    def connect(self) -> None:
        raw = _open_socket(self.addresses, self.port, self.timeout)
        context = _tls_context(settings.MLFLOW_WEBHOOK_CA_BUNDLE)
        try:
            self.sock = context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delay form only; dates are ignored)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def post(url: str, *, body: str, headers: dict[str, str], timeout: float) -> TargetResponse:
    """POST ``body`` to ``url`` once, after checking the URL and its addresses again.

    Raises ``ForbiddenTargetError``/``UnresolvableHostError`` (the URL) or ``OSError`` (network,
    TLS, timeout: ``timeout`` bounds the connect and each read)."""
    parts, hostname, port = _split(url)
    addresses = _addresses(hostname, port)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(hostname, port, addresses=addresses, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        text = response.read(MAX_RESPONSE_BODY_BYTES).decode("utf-8", "replace")
        return TargetResponse(
            response.status, text, _retry_after(response.getheader("Retry-After"))
        )
    except (http.client.HTTPException, UnicodeError, ValueError) as error:
        # A malformed answer, or a host or path http.client cannot put on the wire.
        raise OSError(f"HTTP exchange failed: {error!r}") from error
    finally:
        connection.close()
