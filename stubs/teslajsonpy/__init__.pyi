# Typed stubs for the parts of teslajsonpy 3.14.0 that tesladr uses: the package ships no
# py.typed. mypy reads them through `mypy_path` (pyproject.toml); a use of anything not stubbed
# here is a type error, so the stubs grow with tesladr's use. Signatures follow the 3.14.0
# source; see stubs/README.md.

from .controller import Controller as Controller
from .exceptions import (
    IncompleteCredentials as IncompleteCredentials,
    TeslaException as TeslaException,
)

__all__ = ["Controller", "IncompleteCredentials", "TeslaException"]
