"""Before the first request: is the host there at all (fail in seconds, not minutes), which host will unified auth
use, and the proxy/CA environment read once for it.  Used by :class:`flowdef.deploy.client.Workspace`."""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlsplit

from flowdef.errors import WorkspaceError

CONNECT_TIMEOUT = 5.0


def check_reachable(host: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Fail in seconds, with one line, when ``host`` does not resolve or does not accept connections (a typo in
    the target's host, a VPN that is down).  Skipped behind an HTTP proxy, where only the proxy is reachable."""
    import urllib.request

    url = urlsplit(host if "://" in host else f"https://{host}")
    name = url.hostname
    if not name:
        return
    proxies = urllib.request.getproxies()
    if (proxies.get(url.scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(name):
        return
    port = url.port or (80 if url.scheme == "http" else 443)
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WorkspaceError(f"cannot reach {host}: the name {name!r} does not resolve ({exc.strerror}); check "
                             f"the target's host (or DATABRICKS_HOST)") from None
    last: OSError | None = None
    for family, kind, proto, _, address in infos[:3]:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
                return
        except OSError as exc:
            last = exc
    reason = "no answer within %gs" % timeout if isinstance(last, socket.timeout) else (
        getattr(last, "strerror", None) or str(last))
    raise WorkspaceError(f"cannot reach {host}: {reason}; check the target's host (or DATABRICKS_HOST) and "
                         f"the network") from None


def settle_environment(session: Any, host: str) -> None:
    """Read the proxy and CA-bundle environment once for this workspace's host instead of on every request.

    ``requests`` re-reads the environment per request when ``session.trust_env`` is set (``get_environ_proxies``
    walks ``os.environ`` twice, plus ``no_proxy`` matching): a quarter of the client's CPU per request, measured,
    which spreads a burst of 32 parallel writes over several round trips on a busy machine.  Deploy talks to one
    host only, so the answer is the same every time: resolve it here (``no_proxy`` is honoured for this host),
    put it on the session, and switch the per-request lookup off.  The session's own ``auth`` is set by the SDK, so
    the other thing ``trust_env`` does (``.netrc`` credentials) never applied."""
    if session is None or not getattr(session, "trust_env", False) or not host:
        return
    import requests.utils

    url = host if "://" in host else f"https://{host}"
    for key, value in requests.utils.get_environ_proxies(url).items():
        session.proxies.setdefault(key, value)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _configured_host(host: str | None, profile: str | None) -> str | None:
    """The host unified auth will use, found the cheap way (explicit, environment, or the profile in
    ``~/.databrickscfg``); None when it cannot tell - the SDK's Config then decides."""
    if host:
        return host
    if os.environ.get("DATABRICKS_HOST") and not profile:
        return os.environ["DATABRICKS_HOST"]
    import configparser

    path = os.environ.get("DATABRICKS_CONFIG_FILE") or os.path.expanduser("~/.databrickscfg")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except (configparser.Error, OSError):
        return None
    section = profile or os.environ.get("DATABRICKS_CONFIG_PROFILE") or "DEFAULT"
    try:
        return parser.get(section, "host", fallback=None)
    except configparser.Error:
        return None
