"""A self-signed HTTP proxy: its certificate file makes the client trust it.

The fake Tesla serves HTTPS on 127.0.0.1 with a certificate made here, as a self-hosted
tesla-http-proxy would; both the auth server and the API go through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import ssl
from typing import Any
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.httpx_client import get_async_client
import httpx
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.account import async_create_controller
from custom_components.tesladr.const import CONF_API_PROXY_CERT, DOMAIN
from tests.fake_tesla import FakeTesla, serving

from .conftest import CHARGING, EMAIL, account_data
from .test_config_flow import form, start

POWER = "sensor.model_3_charger_power"
INCOMING_FAILED = "Error on transport creation for incoming connection"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as `openssl req -x509` makes one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tesla-http-proxy")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "proxy.crt"
    key_path = directory / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    """The proxy's certificate and key files."""
    return _self_signed(tmp_path)


@pytest.fixture
async def tls_tesla(
    hass: HomeAssistant, socket_enabled: None, cert: tuple[Path, Path]
) -> AsyncIterator[FakeTesla]:
    """The fake Tesla behind HTTPS with the self-signed certificate."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(*cert)
    fake = FakeTesla(ssl_context=server)
    fake.add_car(CHARGING, "Model 3")
    async with serving(hass, fake):
        assert fake.url.startswith("https://127.0.0.1:")
        yield fake


def _entry(fake: FakeTesla, cert_path: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=EMAIL,
        data={**account_data(fake), CONF_API_PROXY_CERT: cert_path},
    )


def _tolerate_refused_handshakes(hass: HomeAssistant) -> None:
    """Let the fake refuse a client that does not trust it.

    In debug mode asyncio reports a server's failed TLS handshakes to the loop's exception
    handler, which the test harness turns into a failure; here the refusal is the point.
    """
    handler = hass.loop.get_exception_handler()
    assert handler is not None

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == INCOMING_FAILED and isinstance(
            context.get("exception"), (ConnectionError, ssl.SSLError)
        ):
            return
        handler(loop, context)

    hass.loop.set_exception_handler(handle)


async def test_self_signed_proxy_is_trusted_with_its_certificate(
    hass: HomeAssistant, tls_tesla: FakeTesla, cert: tuple[Path, Path]
) -> None:
    """With the certificate file the account loads over TLS and reads the car.

    Home Assistant's shared client still refuses the proxy: the entry's client is its own.
    """
    entry = _entry(tls_tesla, str(cert[0]))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]
    assert tls_tesla.count(CHARGING, "data") == 1
    _tolerate_refused_handshakes(hass)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await get_async_client(hass).get(f"{tls_tesla.url}/api/1/products")
    assert tls_tesla.count("account", "data") == 1


async def test_one_client_per_certificate(
    hass: HomeAssistant, tls_tesla: FakeTesla, cert: tuple[Path, Path]
) -> None:
    """Reloads and flow attempts reuse the client instead of piling up pools.

    A relative path is taken from the configuration folder.
    """
    data: dict[str, Any] = {
        **account_data(tls_tesla),
        CONF_API_PROXY_CERT: str(cert[0]),
    }
    first = await async_create_controller(hass, data)
    second = await async_create_controller(hass, data)
    with patch.object(hass.config, "config_dir", str(cert[0].parent)):
        relative = await async_create_controller(
            hass, {**data, CONF_API_PROXY_CERT: cert[0].name}
        )
    sessions = {
        id(controller._Controller__connection.websession)
        for controller in (first, second, relative)
    }
    assert len(sessions) == 1


@pytest.mark.parametrize("content", [None, b"not a certificate"])
async def test_bad_certificate_file_is_a_setup_error(
    hass: HomeAssistant,
    tls_tesla: FakeTesla,
    tmp_path: Path,
    content: bytes | None,
) -> None:
    """A missing or unusable file: a clear set-up error, no retry loop, no request."""
    path = tmp_path / "proxy.pem"
    if content is not None:
        path.write_bytes(content)
    entry = _entry(tls_tesla, str(path))
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "invalid_proxy_cert"
    assert entry.error_reason_translation_placeholders is not None
    assert entry.error_reason_translation_placeholders["path"] == str(path)
    assert tls_tesla.token_refreshes == 0


async def test_config_flow_with_a_self_signed_proxy(
    hass: HomeAssistant,
    tls_tesla: FakeTesla,
    cert: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """A wrong certificate path is a form error; the right one creates the entry."""
    flow_id = await start(hass)
    data = form(tls_tesla)
    data["advanced"]["api_proxy_cert"] = str(tmp_path / "missing.pem")
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_proxy_cert"}
    assert tls_tesla.token_refreshes == 0
    data["advanced"]["api_proxy_cert"] = f" {cert[0]} "
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_PROXY_CERT] == str(cert[0])
    await hass.async_block_till_done()
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]
