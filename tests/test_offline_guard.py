"""The suite is offline-safe: reaching a non-loopback address fails loudly."""
import socket

import pytest

from conftest import NetworkAccessError


@pytest.mark.parametrize("address", [("93.184.216.34", 80), ("2606:4700::1111", 443)])
def test_connect_to_public_address_is_refused(address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        with pytest.raises(NetworkAccessError, match="must not use the network"):
            s.connect(address)


def test_name_lookup_is_refused():
    with pytest.raises(NetworkAccessError):
        socket.getaddrinfo("example.org", 443)


def test_urllib_download_fails_loudly():
    import urllib.request

    with pytest.raises(Exception) as info:
        urllib.request.urlopen("https://example.org/", timeout=5)
    assert "must not use the network" in repr(info.value) or isinstance(info.value.__context__, NetworkAccessError) \
        or "must not use the network" in str(getattr(info.value, "reason", ""))


def test_loopback_is_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        with socket.create_connection(("localhost", port), timeout=2):
            pass
    finally:
        server.close()
