from typing import Any

import httpx

class Controller:
    def __init__(
        self,
        websession: httpx.AsyncClient | None = None,
        email: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        expiration: int = 0,
        update_interval: int = 300,
        driving_interval: int = 60,
        enable_websocket: bool = False,
        polling_policy: str | None = None,
        auth_domain: str = "https://auth.tesla.com",
        api_proxy_url: str | None = None,
        api_proxy_cert: str | None = None,
        client_id: str = "ownerapi",
    ) -> None: ...
    def is_token_refreshed(self) -> bool: ...
    # refresh_token, access_token and id_token (str), expiration (int, a Unix time).
    def get_tokens(self) -> dict[str, Any]: ...
    def get_expiration(self) -> int: ...
    def set_id_vin(self, car_id: int | str, vin: str) -> None: ...
    # The decoded JSON reply of the endpoint named in endpoints.json.
    async def api(
        self,
        name: str,
        path_vars: dict[str, Any] | None = None,
        wake_if_asleep: bool = False,
        **kwargs: Any,
    ) -> Any: ...
