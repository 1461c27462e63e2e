"""The site's area (現場の範囲) and whether a phone's position lies in it.

A position is judged with its accuracy: a tap counts as inside when the circle the phone says it
is in (position ± accuracy) touches the site's circle. A poor fix at the gate is therefore not
flagged for its error alone, while a worker at home (kilometres away) is. Distances are on a
sphere (haversine): at a site's scale (tens to hundreds of metres) its error against the
ellipsoid is well under a metre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ledger.errors import InvalidValue

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
# A fix worse than this says nothing about where the phone is: judged as no position.
MAX_ACCURACY_M = 1_000.0


@dataclass(frozen=True)
class Area:
    latitude: float
    longitude: float
    radius_m: float

    def __post_init__(self) -> None:
        _coordinates(self.latitude, self.longitude)
        if not 10 <= self.radius_m <= 5_000:
            raise InvalidValue("radius_m", "radius_m.range", "must be 10 to 5000 metres")


@dataclass(frozen=True)
class Fix:
    """A phone's position (WGS 84, the browser's Geolocation API) and its accuracy in metres."""

    latitude: float
    longitude: float
    accuracy_m: float

    def __post_init__(self) -> None:
        _coordinates(self.latitude, self.longitude)
        if not (math.isfinite(self.accuracy_m) and self.accuracy_m >= 0):
            raise InvalidValue("accuracy_m", "accuracy_m.range", "must be a distance ≥ 0")


def _coordinates(latitude: float, longitude: float) -> None:
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise InvalidValue("latitude", "latitude.range", "must be -90 to 90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise InvalidValue("longitude", "longitude.range", "must be -180 to 180")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def position_flag(area: Area | None, fix: Fix | None) -> str | None:
    """The flag a phone tap gets for its position: None when the site sets no area or the
    phone is in it, "no_position" without a usable fix, "outside_area" when it is out."""
    if area is None:
        return None
    if fix is None or fix.accuracy_m > MAX_ACCURACY_M:
        return "no_position"
    gap = distance_m(area.latitude, area.longitude, fix.latitude, fix.longitude)
    return None if gap <= area.radius_m + fix.accuracy_m else "outside_area"
