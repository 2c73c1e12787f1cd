"""The brand images: the files Home Assistant serves, home-assistant/brands' rules, their source."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType

from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import PIL
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

ROOT = Path(__file__).resolve().parents[1]
BRAND = ROOT / "custom_components" / "tesladr" / "brand"
ICONS = ["icon.png", "dark_icon.png"]
LOGOS = ["logo.png", "dark_logo.png"]


def _hidpi(name: str) -> str:
    return name.replace(".png", "@2x.png")


def _open(name: str) -> Image.Image:
    image = Image.open(BRAND / name)
    assert image.format == "PNG"
    return image


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "brand", ROOT / "scripts" / "brand.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_every_image_home_assistant_asks_for() -> None:
    """All eight names the brands view serves, and nothing else in the folder."""
    assert {path.name for path in BRAND.iterdir()} == ALLOWED_IMAGES
    assert set(ICONS + LOGOS + [_hidpi(name) for name in ICONS + LOGOS]) == (
        ALLOWED_IMAGES
    )


@pytest.mark.parametrize("name", ICONS)
def test_icons(name: str) -> None:
    """Square, 256 and 512 pixels, transparent, the art filling the square's long side."""
    for image, size in ((_open(name), 256), (_open(_hidpi(name)), 512)):
        assert image.mode == "RGBA"
        assert image.size == (size, size)
        left, top, right, bottom = image.getbbox(alpha_only=True) or (0, 0, 0, 0)
        assert (left, right) == (0, size) or (top, bottom) == (0, size)
        # Transparent around the art, not a filled square.
        assert image.getchannel("A").getpixel((size // 2, 0)) == 0


@pytest.mark.parametrize("name", LOGOS)
def test_logos(name: str) -> None:
    """Landscape, the short side 128-256 (256-512 hDPI), trimmed to the art."""
    for image, low, high in ((_open(name), 128, 256), (_open(_hidpi(name)), 256, 512)):
        assert image.mode == "RGBA"
        assert image.width > image.height
        assert low <= image.height <= high
        assert image.getbbox(alpha_only=True) == (0, 0, image.width, image.height)
    small, large = _open(name), _open(_hidpi(name))
    assert abs(large.width - 2 * small.width) <= 2
    assert large.height == 2 * small.height


def _mean_brightness(image: Image.Image) -> float:
    """Mean grey level of the opaque pixels."""
    grey = image.convert("L")
    opaque = image.getchannel("A").point(lambda alpha: 255 if alpha > 128 else 0)
    histogram = grey.histogram(mask=opaque)
    return sum(level * count for level, count in enumerate(histogram)) / sum(histogram)


@pytest.mark.parametrize("name", ICONS[:1] + LOGOS[:1])
def test_dark_variant_is_lighter(name: str) -> None:
    """The dark-theme art is drawn in light colours, the default in dark ones."""
    light = _mean_brightness(_open(name))
    dark = _mean_brightness(_open(f"dark_{name}"))
    assert light < 100 < dark


def test_script_redraws_the_committed_images() -> None:
    """scripts/brand.py is the source: it draws the committed pixels (1x, as a sample)."""
    brand = _script()
    if PIL.__version__ != brand.PILLOW_VERSION:
        pytest.skip(f"images were drawn with Pillow {brand.PILLOW_VERSION}")
    recipes = brand.recipes()
    assert set(recipes) == ALLOWED_IMAGES
    for name in ICONS + LOGOS:
        image = recipes[name]()
        committed = _open(name)
        assert image.size == committed.size, name
        assert image.tobytes() == committed.convert(image.mode).tobytes(), name


async def test_home_assistant_serves_them(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The brands integration answers with the integration's own files, not the CDN's."""
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for name in sorted(ALLOWED_IMAGES):
        response = await client.get(
            f"/api/brands/integration/tesladr/{name}", params={"placeholder": "no"}
        )
        assert response.status == 200, name
        assert response.content_type == "image/png"
        assert await response.read() == (BRAND / name).read_bytes(), name
