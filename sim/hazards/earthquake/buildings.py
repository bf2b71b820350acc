"""The building inventory an earthquake damages: OSM buildings or buildings synthesised.

Two sources, one :class:`Inventory`:

- ``osm``: the map's building footprints. With the compiled footprint table
  (``RoadNetwork.buildings``, at least one home in it) **every** footprint, homes and
  others (:func:`_from_footprints`: storeys as the population counts them, family from
  ``building:material``, else the building type, else the regional mix); households
  live in their own building (``[population] source = "buildings"``) or the nearest
  home footprint. Without the table: every residential place that is a building
  (``RoadNetwork.residential`` with kind ``building``). Levels from ``building:levels``,
  the structural family from ``building:material``, the design level from the
  construction year (``start_date``, ``building:start_date``, ``construction_date``)
  where tagged; everything untagged is drawn from the regional mix.
- ``synthetic``: where the map has residential *areas* but no footprints (the default
  district has only ``landuse=residential`` blocks), buildings are **invented**:
  count = area × coverage / footprint per block, laid out on a regular lattice inside the
  block's square (the square :mod:`sim.population` places homes in), levels from a
  distribution, family and design level from the regional mix. They are a statistical
  stand-in, not real buildings; every output says ``inventory = synthesised``.

Occupants are not invented here: the hazard puts each household that is at home into a
building of its residential place when the earthquake strikes (:func:`locate_households`),
or into its own footprint. Without footprints only homes are in the inventory.

Structural classes are HAZUS model building types: a family (C1, URM, ...) plus a height
band from the number of levels (HAZUS Technical Manual Table 3.1, [U] not retrieved:
low-rise 1–3, mid-rise 4–7, high-rise 8+ storeys; URM low 1–2, mid 3+; RM1 low 1–3,
mid 4+; W1, W2, S3, PC1, MH have no bands).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, StrictInt, model_validator

from sim._spec import NonNegative, Positive, Spec, field_error
from sim.hazards.earthquake.fragility import CODES, building_tables
from sim.network.buildings import Buildings
from sim.network.roadnet import Places

FAMILIES = ("W1", "W2", "S1", "S2", "S3", "S4", "S5", "C1", "C2", "C3", "PC1", "PC2",
            "RM1", "RM2", "URM", "MH")
_NO_BAND = frozenset({"W1", "W2", "S3", "PC1", "MH"})
# OSM building:material values -> structural family (OSM wiki Key:building:material).
# Concrete: frame (C1) up to mid-rise, shear wall (C2) from high-rise (assumption).
_MATERIAL = {"brick": "URM", "masonry": "URM", "stone": "URM", "adobe": "URM",
             "cement_block": "RM1", "wood": "W1", "timber_framing": "W1", "steel": "S1",
             "metal": "S3", "concrete": "C1", "reinforced_concrete": "C1",
             "plaster": "URM"}
# Building uses whose default height (levels untagged) is a house, not the regional mix.
_HOUSE_USES = frozenset({"house", "detached", "semidetached_house", "bungalow", "farm",
                         "cabin", "hut", "terrace"})
_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")
# OSM building type -> structural family where the type says it (assumption, HAZUS
# Technical Manual Table 3.1 descriptions: S3 "light metal" is the typical warehouse,
# hangar and farm shed; W1 "light wood frame" the cabin, hut and shed). Houses and
# untyped buildings take the regional mix. ``[hazards.buildings] type_family`` overrides
# and extends this table.
TYPE_FAMILY = {"warehouse": "S3", "industrial": "S3", "hangar": "S3", "barn": "S3",
               "farm_auxiliary": "S3", "greenhouse": "S3", "carport": "S3", "service": "S3",
               "shed": "W1", "cabin": "W1", "hut": "W1", "static_caravan": "MH"}


class BuildingsSpec(Spec):
    """``[hazards.buildings]``: where the building inventory comes from and its regional mix.

    Defaults describe a mid-size city of north-west China (assumptions, see
    scenarios/README.md "Hazards: earthquake"): brick-concrete masonry (URM here, the
    closest HAZUS type) dominating low- and older mid-rise housing, RC frames and shear
    walls for newer and taller blocks.
    """

    source: Literal["auto", "osm", "synthetic"] = "auto"
    coverage: Annotated[float, Field(gt=0.0, le=1.0)] = 0.25
    footprint_m2: Positive = 500.0
    setback_m: NonNegative = 5.0
    levels: list[StrictInt] = [2, 6, 11, 18]
    levels_share: list[float] = [0.20, 0.55, 0.15, 0.10]
    house_levels: StrictInt = Field(default=2, ge=1, le=5)
    storey_height_m: Positive = 3.0
    mix_low: dict[str, float] = {"URM": 0.45, "RM1": 0.15, "C1": 0.25, "C2": 0.10, "S3": 0.05}
    mix_mid: dict[str, float] = {"URM": 0.35, "C1": 0.35, "C2": 0.25, "RM1": 0.05}
    mix_high: dict[str, float] = {"C2": 0.75, "C1": 0.20, "S1": 0.05}
    code_mix: dict[str, float] = {"pre": 0.15, "low": 0.35, "moderate": 0.40, "high": 0.10}
    code_years: dict[str, StrictInt] = {"low": 1979, "moderate": 1990, "high": 2010}
    type_family: dict[str, str] = {}

    @model_validator(mode="after")
    def _check(self) -> BuildingsSpec:
        if not self.levels or len(self.levels) != len(self.levels_share):
            raise field_error("levels_share", f"one share per entry of levels ({len(self.levels)})",
                              self.levels_share)
        if any(v < 1 or v > 200 for v in self.levels):
            raise field_error("levels", "whole numbers of storeys 1 to 200", self.levels)
        _check_shares("levels_share", dict(enumerate(self.levels_share)))
        for name in ("mix_low", "mix_mid", "mix_high"):
            mix = getattr(self, name)
            bad = [k for k in mix if k not in FAMILIES]
            if bad:
                raise field_error(name, f"keys among {', '.join(FAMILIES)}", bad)
            _check_shares(name, mix)
        bad = [k for k in self.code_mix if k not in CODES]
        if bad:
            raise field_error("code_mix", f"keys among {', '.join(CODES)}", bad)
        _check_shares("code_mix", self.code_mix)
        bad = {k: v for k, v in self.type_family.items() if v not in FAMILIES}
        if bad:
            raise field_error("type_family", f"building type -> one of {', '.join(FAMILIES)}",
                              bad)
        yrs = self.code_years
        if set(yrs) != {"low", "moderate", "high"} or not (
                yrs["low"] <= yrs["moderate"] <= yrs["high"]):
            raise field_error("code_years", "{low, moderate, high} = first years of each design "
                              "level, non-decreasing", yrs)
        return self


def _check_shares(name: str, shares: dict) -> None:
    vals = list(shares.values())
    if not vals or any((not math.isfinite(v)) or v < 0 for v in vals) or abs(sum(vals) - 1) > 1e-6:
        raise field_error(name, "non-negative shares summing to 1", shares)


@dataclass(frozen=True)
class Inventory:
    """Buildings, one row each, grouped by residential place.

    Attributes
    ----------
    source : str
        ``"osm"`` or ``"synthesised"``.
    place : int64[B]
        Residential place (row of ``RoadNetwork.residential``) the building belongs to;
        buildings of place ``p`` are rows ``place_start[p]:place_start[p + 1]``.
    place_start : int64[P + 1]
    x_m, y_m : float64[B]
        Centroid, projected metres (map CRS).
    footprint_m2 : float64[B]
    levels : int16[B]
    cls : int16[B]
        Index into :func:`sim.hazards.earthquake.fragility.building_tables` ``classes``.
    code : int8[B]
        Index into :data:`sim.hazards.earthquake.fragility.CODES`.
    floor_cum : float64[B]
        Running sum of floor area (footprint × levels) over all buildings, m², used to
        draw a home in proportion to floor area.
    building_row : int64[B] or None
        Row of the map's building footprint table (``RoadNetwork.buildings``); -1 for a
        synthesised building. None when the inventory has no footprints.
    is_home : bool[B] or None
        The building is housing (:meth:`sim.network.buildings.Buildings.residential_use`;
        synthesised buildings are homes).
    """

    source: str
    place: np.ndarray
    place_start: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    footprint_m2: np.ndarray
    levels: np.ndarray
    cls: np.ndarray
    code: np.ndarray
    floor_cum: np.ndarray
    building_row: np.ndarray | None = None
    is_home: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.place.shape[0])

    def row_index(self, n_rows: int) -> np.ndarray:
        """Inventory index of each row of the footprint table (-1 if not in it), int64."""
        out = np.full(n_rows, -1, np.int64)
        if self.building_row is not None:
            real = np.flatnonzero(self.building_row >= 0)
            out[self.building_row[real]] = real
        return out

    def height_m(self, storey_height_m: float) -> np.ndarray:
        """Building height, metres."""
        return self.levels.astype(np.float64) * storey_height_m

    def class_names(self) -> np.ndarray:
        """HAZUS class name per building (object array)."""
        return np.asarray(building_tables().classes, dtype=object)[self.cls]

    def median_g(self) -> np.ndarray:
        """Fragility medians (g) per building, float64[B, 4]."""
        return building_tables().median_g[self.cls, self.code]


def hazus_class(family: str, levels: int) -> str:
    """HAZUS model building type of a structural family at a number of storeys.

    Examples
    --------
    >>> hazus_class("C1", 2), hazus_class("C2", 6), hazus_class("URM", 3), hazus_class("W1", 9)
    ('C1L', 'C2M', 'URMM', 'W1')
    """
    if family in _NO_BAND:
        return family
    if family == "URM":
        return "URML" if levels <= 2 else "URMM"
    if family == "RM1":
        return "RM1L" if levels <= 3 else "RM1M"
    return family + ("L" if levels <= 3 else "M" if levels <= 7 else "H")


def build_inventory(res: Places, spec: BuildingsSpec, *, rng: np.random.Generator,
                    buildings: Buildings | None = None) -> Inventory:
    """The building inventory of a map.

    With building footprints (``buildings``: the map's table, at least one home among
    them) the inventory is **every footprint** of the map, homes and others, in table
    order (source ``osm``); nothing is synthesised. Without footprints: the residential
    places as before (``osm`` where they are building places, else ``synthesised``).

    Parameters
    ----------
    res
        ``RoadNetwork.residential``: building footprints (kind ``building``) or residential
        areas (kind ``residential``), projected metres.
    spec
        Source and regional mix.
    rng
        Draws levels, families and design levels where the map does not tag them.
    buildings
        ``RoadNetwork.buildings`` (None or empty: no footprint table).

    Returns
    -------
    Inventory
        Empty if the map has no residential places and no footprints.
    """
    kinds = np.asarray(res.kind, dtype=str)
    b = buildings if buildings is not None else Buildings.empty()
    has_homes = len(b) > 0 and bool(b.residential_use().any())
    source = spec.source
    if source == "auto":
        source = "osm" if has_homes or (len(res) and np.all(kinds == "building")) else \
            "synthetic"
    if source == "osm" and len(b):
        return _from_footprints(b, res, spec, rng)
    if source == "osm":
        return _from_osm(res, spec, rng)
    return _synthesise(res, spec, rng)


def _from_footprints(b: Buildings, res: Places, spec: BuildingsSpec, rng: np.random.Generator
                     ) -> Inventory:
    """Every footprint of the map, one inventory row each, in table order.

    Storeys from the table (tagged, else the type default of
    :mod:`sim.network.buildings`); family from ``building:material``, else the type
    (:data:`TYPE_FAMILY` updated by ``type_family``), else drawn from the regional mix
    of the height band; design level from the construction year, else drawn. The
    buildings form one place (index ``len(res)``, after the residential places);
    households find theirs through ``building_row``, not by place.
    """
    n = len(b)
    levels = b.storeys()
    kind = np.asarray(b.kind, dtype=str)
    family = _lookup(np.asarray(b.material, dtype=str), _MATERIAL)
    by_type = _lookup(kind, {**TYPE_FAMILY, **spec.type_family})
    family = np.where(family != "", family, by_type)
    family = np.where(family != "", family, _draw_family(spec, levels, rng))
    year = b.year.astype(np.int64)
    yrs = spec.code_years
    by_year = np.select([year >= yrs["high"], year >= yrs["moderate"], year >= yrs["low"]],
                        [CODES.index("high"), CODES.index("moderate"), CODES.index("low")],
                        CODES.index("pre"))
    code = np.where(year >= 0, by_year, _draw_code(spec, n, rng))
    home = b.residential_use()
    cols = [np.full(n, len(res), np.int64), b.x_m, b.y_m, np.maximum(b.footprint_m2, 1.0),
            levels, family, code, np.arange(n, dtype=np.int64), home]
    place, x, y, fp, lv, fam, cd, row, is_home = cols
    return _assemble("osm", place, x, y, fp, lv, fam, cd, len(res) + 1, building_row=row,
                     is_home=is_home)


def _lookup(values: np.ndarray, table: dict[str, str]) -> np.ndarray:
    """``table[v]`` per value ("" where absent), one dict look-up per distinct value."""
    uniq, inv = np.unique(values, return_inverse=True)
    return np.array([table.get(str(u), "") for u in uniq] or [""], dtype=object)[inv]


def _from_osm(res: Places, spec: BuildingsSpec, rng: np.random.Generator) -> Inventory:
    n = len(res)
    tags = list(res.tags) if res.tags else [{}] * n
    levels = np.zeros(n, np.int64)
    family = np.empty(n, dtype=object)
    year = np.full(n, -1, np.int64)
    for i, t in enumerate(tags):  # once per map, at bind time
        t = t or {}
        lv = _int_tag(t.get("building:levels"))
        if lv is None and t.get("building") in _HOUSE_USES:
            lv = spec.house_levels
        levels[i] = lv or 0
        family[i] = _MATERIAL.get(str(t.get("building:material", "")).lower(), "")
        for key in ("start_date", "building:start_date", "construction_date"):
            m = _YEAR.search(str(t.get(key, "")))
            if m:
                year[i] = int(m.group(1))
                break
    drawn = _draw_levels(spec, n, rng)
    levels = np.where(levels > 0, levels, drawn)
    family = np.where(family != "", family, _draw_family(spec, levels, rng))
    code = _draw_code(spec, n, rng)
    yrs = spec.code_years
    known = year >= 0
    by_year = np.select([year >= yrs["high"], year >= yrs["moderate"], year >= yrs["low"]],
                        [CODES.index("high"), CODES.index("moderate"), CODES.index("low")],
                        CODES.index("pre"))
    code = np.where(known, by_year, code)
    return _assemble("osm", np.arange(n), res.x_m.astype(np.float64), res.y_m.astype(np.float64),
                     np.maximum(res.area_m2.astype(np.float64), 1.0), levels, family, code, n)


def _synthesise(res: Places, spec: BuildingsSpec, rng: np.random.Generator) -> Inventory:
    area = np.maximum(res.area_m2.astype(np.float64), 0.0)
    count = np.maximum(1, np.rint(area * spec.coverage / spec.footprint_m2)).astype(np.int64)
    count[area <= 0] = 0
    place = np.repeat(np.arange(len(res)), count)
    start = np.zeros(len(res) + 1, np.int64)
    np.cumsum(count, out=start[1:])
    j = np.arange(place.size) - start[place]  # rank inside the block
    k = np.ceil(np.sqrt(count)).astype(np.int64)[place]  # lattice k x k
    half = np.sqrt(area)[place] / 2.0
    a = math.sqrt(spec.footprint_m2) / 2.0
    # Lattice of building centres inside the block square, set back from its edge.
    span = np.maximum(2.0 * (half - a - spec.setback_m), 0.0)
    step = span / np.maximum(k - 1, 1)
    off = np.where(k > 1, -span / 2.0, 0.0)
    x = res.x_m[place] + off + (j % k) * step
    y = res.y_m[place] + off + (j // k) * step
    n = place.size
    levels = _draw_levels(spec, n, rng)
    family = _draw_family(spec, levels, rng)
    code = _draw_code(spec, n, rng)
    return _assemble("synthesised", place, x, y, np.full(n, spec.footprint_m2), levels, family,
                     code, len(res))


def _assemble(source, place, x, y, footprint, levels, family, code, n_places, *,
              building_row=None, is_home=None) -> Inventory:
    t = building_tables()
    names = np.array([hazus_class(f, int(lv)) for f, lv in zip(family, levels, strict=True)],
                     dtype=object)
    uniq, inv = np.unique(names, return_inverse=True) if names.size else (np.array([]), names)
    cls = np.array([t.class_index(str(u)) for u in uniq], np.int16)[inv] if names.size else \
        np.zeros(0, np.int16)
    code = np.asarray(code, np.int64)
    # Unreinforced types (URM, C3, S5) have only Low and Pre-code curves: better codes
    # drawn for them fall back to Low (the best HAZUS offers).
    missing = np.isnan(t.median_g[cls, code, 0]) if cls.size else np.zeros(0, bool)
    code = np.where(missing, CODES.index("low"), code)
    order = np.argsort(place, kind="stable")
    place = np.asarray(place, np.int64)[order]
    start = np.zeros(n_places + 1, np.int64)
    np.cumsum(np.bincount(place, minlength=n_places), out=start[1:])
    fp = np.asarray(footprint, np.float64)[order]
    lv = np.asarray(levels, np.int16)[order]
    return Inventory(source, place, start, np.asarray(x, np.float64)[order],
                     np.asarray(y, np.float64)[order], fp, lv, cls[order],
                     code[order].astype(np.int8), np.cumsum(fp * lv),
                     None if building_row is None else np.asarray(building_row, np.int64)[order],
                     None if is_home is None else np.asarray(is_home, bool)[order])


def _draw_levels(spec: BuildingsSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    p = np.asarray(spec.levels_share, np.float64)
    return np.asarray(spec.levels, np.int64)[rng.choice(len(p), size=n, p=p / p.sum())]


def _draw_family(spec: BuildingsSpec, levels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(levels.size, dtype=object)
    u = rng.random(levels.size)
    band = np.where(levels <= 3, 0, np.where(levels <= 7, 1, 2))
    for b, mix in enumerate((spec.mix_low, spec.mix_mid, spec.mix_high)):
        m = band == b
        names = np.array(list(mix), dtype=object)
        cum = np.cumsum(list(mix.values()))
        idx = np.minimum(np.searchsorted(cum / cum[-1], u[m], side="right"), len(names) - 1)
        out[m] = names[idx]
    return out


def _draw_code(spec: BuildingsSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    names = list(spec.code_mix)
    p = np.asarray(list(spec.code_mix.values()), np.float64)
    idx = rng.choice(len(names), size=n, p=p / p.sum())
    return np.array([CODES.index(c) for c in names], np.int64)[idx]


def _int_tag(value) -> int | None:
    try:
        v = int(float(str(value).split(";")[0]))
    except (TypeError, ValueError):
        return None
    return v if 1 <= v <= 200 else None


def locate_households(inv: Inventory, res: Places, x_m: np.ndarray, y_m: np.ndarray,
                      at_home: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """Building index of each household at home (-1 for those not in any building).

    A household is in residential place ``p`` if it lies in the square of side
    sqrt(area) around ``p``'s centroid (where :mod:`sim.population` placed it; the nearest
    of four candidate places that contains it). Within ``p`` it lives in a building drawn
    in proportion to floor area (footprint × levels): households share the buildings of
    their block.
    """
    from scipy.spatial import cKDTree

    out = np.full(x_m.size, -1, np.int64)
    idx = np.flatnonzero(at_home)
    if idx.size == 0 or len(inv) == 0:
        return out
    tree = cKDTree(np.column_stack([res.x_m, res.y_m]))
    half = np.sqrt(np.maximum(res.area_m2, 0.0)) / 2.0 + 1e-6
    px, py = x_m[idx], y_m[idx]
    # Nearly every home lies in the square of its nearest place; look further (4 nearest)
    # only for the rest.
    _, place = tree.query(np.column_stack([px, py]), k=1)
    place = np.asarray(place, np.int64)
    has = (np.abs(px - res.x_m[place]) <= half[place]) & (
        np.abs(py - res.y_m[place]) <= half[place])
    rest = np.flatnonzero(~has)
    k = min(4, len(res))
    if rest.size and k > 1:
        _, cand = tree.query(np.column_stack([px[rest], py[rest]]), k=k)
        cand = np.asarray(cand, np.int64).reshape(rest.size, k)
        inside = (np.abs(px[rest, None] - res.x_m[cand]) <= half[cand]) & (
            np.abs(py[rest, None] - res.y_m[cand]) <= half[cand])
        place[rest] = cand[np.arange(rest.size), np.argmax(inside, axis=1)]
        has[rest] = inside.any(axis=1)
    nb = inv.place_start[place + 1] - inv.place_start[place]
    ok = has & (nb > 0)
    idx, place = idx[ok], place[ok]
    lo = inv.place_start[place]
    hi = inv.place_start[place + 1]
    base = np.where(lo > 0, inv.floor_cum[np.maximum(lo - 1, 0)], 0.0)
    total = inv.floor_cum[hi - 1] - base
    target = base + rng.random(idx.size) * total
    b = np.searchsorted(inv.floor_cum, target, side="right")
    out[idx] = np.clip(b, lo, hi - 1)
    return out
