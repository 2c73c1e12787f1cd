"""Set-up of a Tesla account entry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import ssl
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers.httpx_client import (
    DEFAULT_LIMITS,
    create_async_httpx_client,
    get_async_client,
)
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.ssl import SSL_ALPN_HTTP11, create_client_context
import httpx
from teslajsonpy import Controller

from .const import (
    CONF_ACCESS_TOKEN,
    CONF_API_PROXY_CERT,
    CONF_API_PROXY_URL,
    CONF_AUTH_DOMAIN,
    CONF_CLIENT_ID,
    CONF_EXPIRATION,
    CONF_REFRESH_TOKEN,
    DEFAULT_AUTH_DOMAIN,
    DEFAULT_CLIENT_ID,
    DOMAIN,
)
from .dr_coordinator import DrCoordinator
from .vehicle_coordinator import TeslaVehicleCoordinator
from .vehicles.tesla import TeslaChargeControl


@dataclass(slots=True)
class AccountRuntimeData:
    """What an account entry holds while loaded."""

    controller: Controller
    control: TeslaChargeControl
    coordinator: TeslaVehicleCoordinator
    dr: DrCoordinator

    @property
    def vehicles(self) -> TeslaVehicleCoordinator:
        """The account's own car entities read from this coordinator."""
        return self.coordinator


# One client per distinct proxy certificate, like Home Assistant's own shared clients: reloads
# and config-flow attempts reuse it instead of leaving a connection pool behind each time.
DATA_PROXY_CLIENTS: HassKey[dict[bytes, httpx.AsyncClient]] = HassKey(
    f"{DOMAIN}_proxy_clients"
)


class ProxyCertError(Exception):
    """The HTTP proxy's certificate file cannot be read or holds no certificate."""

    def __init__(self, path: str, reason: str) -> None:
        """Keep the path and the reason for the user's message."""
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _read_cert(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ProxyCertError(path, err.strerror or str(err)) from err


def _trusting_context(path: str, cert: bytes) -> ssl.SSLContext:
    """The usual CA bundle plus the proxy's certificate.

    An independent context: the cached one is shared by every integration, and the auth server
    still needs the public CAs.
    """
    context = create_client_context(alpn_protocols=SSL_ALPN_HTTP11)
    try:
        context.load_verify_locations(
            cadata=cert.decode("ascii") if b"-----BEGIN" in cert else cert
        )
    except (ssl.SSLError, UnicodeDecodeError) as err:
        raise ProxyCertError(path, str(err)) from err
    return context


async def _async_proxy_client(hass: HomeAssistant, path: str) -> httpx.AsyncClient:
    """A Home Assistant httpx client that also trusts a self-signed proxy.

    teslajsonpy loads `api_proxy_cert` only into a client it builds itself, so with Home
    Assistant's client the setting would be dropped. The helper fixes `verify` to its own
    context, so the certificate reaches the connection pool through a transport instead.
    """
    # hass.config.path keeps an absolute path and puts a relative one in the config folder.
    path = hass.config.path(path)
    cert = await hass.async_add_executor_job(_read_cert, path)
    clients = hass.data.setdefault(DATA_PROXY_CLIENTS, {})
    if (client := clients.get(cert)) is None:
        # Building a context reads the CA bundle from disk: not in the event loop.
        context = await hass.async_add_executor_job(_trusting_context, path, cert)
        client = clients[cert] = create_async_httpx_client(
            hass,
            transport=httpx.AsyncHTTPTransport(verify=context, limits=DEFAULT_LIMITS),
        )
    return client


async def async_create_controller(
    hass: HomeAssistant, data: dict[str, Any]
) -> Controller:
    """A teslajsonpy controller on a Home Assistant httpx client.

    Raises ProxyCertError when a configured proxy certificate cannot be loaded.
    """
    cert_path = (data.get(CONF_API_PROXY_CERT) or "").strip()
    websession = (
        await _async_proxy_client(hass, cert_path)
        if cert_path
        else get_async_client(hass)
    )
    return Controller(
        websession=websession,
        email=data[CONF_EMAIL],
        refresh_token=data[CONF_REFRESH_TOKEN],
        access_token=data.get(CONF_ACCESS_TOKEN),
        expiration=data.get(CONF_EXPIRATION, 0),
        auth_domain=data.get(CONF_AUTH_DOMAIN) or DEFAULT_AUTH_DOMAIN,
        api_proxy_url=data.get(CONF_API_PROXY_URL) or None,
        client_id=data.get(CONF_CLIENT_ID) or DEFAULT_CLIENT_ID,
    )


async def async_setup_account(
    hass: HomeAssistant, entry: ConfigEntry
) -> AccountRuntimeData:
    """Connect to the account and read its cars once."""
    try:
        controller = await async_create_controller(hass, dict(entry.data))
    except ProxyCertError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_proxy_cert",
            translation_placeholders={"path": err.path, "reason": err.reason},
        ) from err
    control = TeslaChargeControl(controller)
    coordinator = TeslaVehicleCoordinator(hass, entry, controller, control)
    await coordinator.async_config_entry_first_refresh()
    manager = DrCoordinator(hass, entry, coordinator)
    await manager.async_setup()
    return AccountRuntimeData(controller, control, coordinator, manager)


async def async_unload_account(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Resume every car DR paused; the httpx client is Home Assistant's to close."""
    runtime: AccountRuntimeData = entry.runtime_data
    await runtime.dr.async_unload()
