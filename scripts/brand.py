"""Draw tesladr's brand images into custom_components/tesladr/brand/.

Run through `./scripts/brand`. The artwork is described here in a 1000-unit design space and
drawn with Pillow alone (its built-in font for the wordmark), four times oversized and scaled
down, so the same Pillow gives the same pixels on any machine. Home Assistant (2026.3 and
later) serves these files for the integration; the rules are those of home-assistant/brands:
icons 256 x 256 and 512 x 512, logos landscape with the short side 128-256 (256-512 for @2x),
transparent and trimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
import math
from pathlib import Path
import sys
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "custom_components" / "tesladr" / "brand"
# The committed images were drawn with this Pillow; another version may antialias differently.
PILLOW_VERSION = "12.3.0"
OVERSAMPLE = 4

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one theme."""

    car: tuple[int, int, int, int]
    price: tuple[int, int, int, int]


LIGHT = Palette(car=(38, 50, 56, 255), price=(230, 81, 0, 255))
DARK = Palette(car=(236, 239, 241, 255), price=(255, 167, 38, 255))


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, steps: int = 24) -> list[Point]:
    """Points along a cubic Bezier curve, without its first point."""
    points = []
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        points.append(
            (
                u**3 * p0[0]
                + 3 * u * u * t * p1[0]
                + 3 * u * t * t * p2[0]
                + t**3 * p3[0],
                u**3 * p0[1]
                + 3 * u * u * t * p1[1]
                + 3 * u * t * t * p2[1]
                + t**3 * p3[1],
            )
        )
    return points


class Curve(NamedTuple):
    """A cubic Bezier segment from the previous point: two control points and its end."""

    c1: Point
    c2: Point
    end: Point


def _path(start: Point, segments: Iterable[Point | Curve]) -> list[Point]:
    """A closed outline from straight segments (a point) and curves."""
    points = [start]
    for segment in segments:
        if isinstance(segment, Curve):
            points.extend(_bezier(points[-1], *segment))
        else:
            points.append(segment)
    return points


# A fastback saloon seen from the side, facing right, its wheels on y = 900.
BODY = _path(
    (60, 790),
    [
        Curve((45, 750), (45, 700), (72, 668)),  # tail
        Curve((150, 630), (270, 585), (360, 555)),  # rear window, rising
        Curve((440, 530), (560, 528), (630, 550)),  # roof
        Curve((690, 570), (740, 600), (790, 615)),  # windscreen
        Curve((880, 628), (945, 648), (960, 690)),  # bonnet to the nose
        Curve((972, 730), (968, 785), (935, 800)),  # front bumper
    ],
)
# The side windows, split by the pillar between the doors.
WINDOWS = [
    _path((270, 625), [Curve((330, 595), (390, 572), (475, 562)), (490, 625)]),
    _path((535, 625), [(522, 562), Curve((590, 560), (640, 575), (705, 625))]),
]
WHEELS: Sequence[Point] = [(255, 800), (765, 800)]
WHEEL_RADIUS = 100
WHEEL_GAP = 24
HUB_RADIUS = 34
# The price over one evening: calm, one spike, calm again (y grows downwards).
PRICE = [
    (60, 400),
    (250, 400),
    (330, 360),
    (420, 410),
    (520, 110),
    (620, 410),
    (720, 370),
    (940, 385),
]
PRICE_WIDTH = 64


def _draw_icon(palette: Palette, scale: float) -> Image.Image:
    """The icon artwork at `scale` pixels per design unit, with a margin for the trim."""
    size = round(1000 * scale)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def px(points: Iterable[Point]) -> list[Point]:
        return [(x * scale, y * scale) for x, y in points]

    clear = (0, 0, 0, 0)
    draw.polygon(px(BODY), fill=palette.car)
    for window in WINDOWS:
        draw.polygon(px(window), fill=clear)
    for x, y in WHEELS:
        outer = (WHEEL_RADIUS + WHEEL_GAP) * scale
        draw.ellipse(
            (
                x * scale - outer,
                y * scale - outer,
                x * scale + outer,
                y * scale + outer,
            ),
            fill=clear,
        )
        wheel = WHEEL_RADIUS * scale
        draw.ellipse(
            (
                x * scale - wheel,
                y * scale - wheel,
                x * scale + wheel,
                y * scale + wheel,
            ),
            fill=palette.car,
        )
        hub = HUB_RADIUS * scale
        draw.ellipse(
            (x * scale - hub, y * scale - hub, x * scale + hub, y * scale + hub),
            fill=clear,
        )
    width = round(PRICE_WIDTH * scale)
    draw.line(px(PRICE), fill=palette.price, width=width, joint="curve")
    for x, y in (PRICE[0], PRICE[-1]):
        r = width / 2
        draw.ellipse(
            (x * scale - r, y * scale - r, x * scale + r, y * scale + r),
            fill=palette.price,
        )
    return image


def _trimmed(image: Image.Image) -> Image.Image:
    if (bbox := image.getbbox(alpha_only=True)) is None:
        raise ValueError("nothing was drawn")
    return image.crop(bbox)


def _fit_square(art: Image.Image, size: int) -> Image.Image:
    """Scale the trimmed art so its long side fills the square, centred."""
    ratio = size / max(art.size)
    scaled = art.resize(
        (max(1, round(art.width * ratio)), max(1, round(art.height * ratio))),
        Image.Resampling.LANCZOS,
    )
    square = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    square.alpha_composite(
        scaled, ((size - scaled.width) // 2, (size - scaled.height) // 2)
    )
    return square


def icon(palette: Palette, size: int) -> Image.Image:
    """The square icon, `size` pixels wide."""
    art = _trimmed(_draw_icon(palette, size * OVERSAMPLE / 1000))
    return _fit_square(art, size)


def logo(palette: Palette, height: int) -> Image.Image:
    """The icon art and the wordmark side by side, `height` pixels high."""
    big = height * OVERSAMPLE
    mark = _trimmed(_draw_icon(palette, big / 1000))
    mark = mark.resize(
        (round(mark.width * big / mark.height), big), Image.Resampling.LANCZOS
    )
    font = ImageFont.load_default(size=round(big * 0.62))
    stroke = round(big * 0.012)
    draw = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = draw.textbbox(
        (0, 0), "tesladr", font=font, stroke_width=stroke
    )
    gap = round(big * 0.14)
    canvas = Image.new(
        "RGBA", (mark.width + gap + math.ceil(right) + stroke, big), (0, 0, 0, 0)
    )
    canvas.alpha_composite(mark, (0, 0))
    text = ImageDraw.Draw(canvas)
    # "tesla" in the car's colour and "dr" in the price's, on the icon's baseline.
    origin = (mark.width + gap - left, big - bottom - big * 0.02)
    text.text(
        origin,
        "tesla",
        font=font,
        fill=palette.car,
        stroke_width=stroke,
        stroke_fill=palette.car,
    )
    tesla = text.textlength("tesla", font=font)
    text.text(
        (origin[0] + tesla, origin[1]),
        "dr",
        font=font,
        fill=palette.price,
        stroke_width=stroke,
        stroke_fill=palette.price,
    )
    art = _trimmed(canvas)
    width = round(art.width * height / art.height)
    return art.resize((width, height), Image.Resampling.LANCZOS)


def recipes() -> dict[str, Callable[[], Image.Image]]:
    """How to draw every brand image Home Assistant asks for, by file name."""
    result: dict[str, Callable[[], Image.Image]] = {}
    for prefix, palette in (("", LIGHT), ("dark_", DARK)):
        result[f"{prefix}icon.png"] = partial(icon, palette, 256)
        result[f"{prefix}icon@2x.png"] = partial(icon, palette, 512)
        result[f"{prefix}logo.png"] = partial(logo, palette, 256)
        result[f"{prefix}logo@2x.png"] = partial(logo, palette, 512)
    return result


def main() -> None:
    """Write every image into the integration's brand folder."""
    OUT.mkdir(exist_ok=True)
    for name, draw in recipes().items():
        image = draw()
        image.save(OUT / name, optimize=True)
        print(f"{OUT.name}/{name}: {image.width}x{image.height}", file=sys.stderr)


if __name__ == "__main__":
    main()
