"""Google Cloud's regions and their locations, read once from `data/gcp_regions.csv`.

Invariant: this module is the only list of region names in mldns; validation ("did you mean")
and routing distances both read it.
"""

from __future__ import annotations

import functools
import math

import attrs

EARTH_RADIUS_KM = 6371.0


@attrs.frozen
class Region:
    name: str
    location: str
    latitude: float
    longitude: float


@functools.cache
def regions() -> dict[str, Region]:
    """Every known region by name, in the file's order."""
    import csv
    from importlib import resources  # with the first call: its import costs 4 ms at start-up

    text = resources.files("mldns").joinpath("data/gcp_regions.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        row["region"]: Region(
            row["region"], row["location"], float(row["latitude"]), float(row["longitude"])
        )
        for row in rows
    }


def region_problem(name: str) -> str | None:
    """None for a known region; else a short reason, with a suggestion when one is close."""
    if name in regions():
        return None
    import difflib

    close = difflib.get_close_matches(name, regions(), n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{name!r} is not a Google Cloud region{hint}"


def distance_km(a: str, b: str) -> float:
    """Great-circle (haversine) distance between two regions' locations."""
    ra, rb = regions()[a], regions()[b]
    lat1, lat2 = math.radians(ra.latitude), math.radians(rb.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(rb.longitude - ra.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
