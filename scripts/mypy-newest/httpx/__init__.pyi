# Home Assistant 2026.11 makes `import httpx` load httpx2 (httpx2.alias_httpx()), so for mypy in
# .venv-newest (MYPYPATH, set by scripts/test) httpx is httpx2 too, as it is at run time there.
from httpx2 import *  # noqa: F403 - the whole module, as the alias makes it
