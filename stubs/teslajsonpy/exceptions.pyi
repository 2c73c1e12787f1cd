from typing import Any

class TeslaException(Exception):
    # An HTTP status (401, 403, 408, 429, ...) or the library's own text.
    code: int | str
    message: str
    def __init__(self, code: int | str, *args: Any, **kwargs: Any) -> None: ...

class IncompleteCredentials(TeslaException):
    devices: dict[Any, Any]
    def __init__(
        self,
        code: int | str,
        *args: Any,
        devices: dict[Any, Any] | None = None,
        **kwargs: Any,
    ) -> None: ...
