"""Standard surface fuel models: Anderson (1982) 13 and the Scott & Burgan (2005) ones used here.

Parameters in the units the sources print (customary US units; the Rothermel model is
written in them): loads lb/ft², surface-area-to-volume ratio ft²/ft³ (1/ft), fuel-bed
depth ft, dead-fuel moisture of extinction as a fraction, heat content Btu/lb.

Sources: Anderson, H.E. 1982, *Aids to determining fuel models for estimating fire
behavior*, USDA FS GTR INT-122, table 1 (models 1-13; loads printed in t/ac, here lb/ft²
= t/ac × 2000/43560 as BehavePlus stores them); Scott, J.H. & Burgan, R.E. 2005,
*Standard fire behavior fuel models*, USDA FS RMRS-GTR-153, table 7 (GR2, GS1, GS4, SH2, NB).
The 10-h and 100-h dead classes have the fixed SAV ratios 109 and 30 ft²/ft³ (Anderson
1982, table 1 note; Scott & Burgan 2005 p. 10). Particle density 32 lb/ft³, total
mineral content 0.0555 and effective (silica-free) 0.010 are Rothermel's (1972) standard
particle values, used by both sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim._errors import EvacsimError

TEN_HOUR_SAV = 109.0  # 1/ft, Anderson 1982 table 1
HUNDRED_HOUR_SAV = 30.0  # 1/ft, Anderson 1982 table 1
PARTICLE_DENSITY = 32.0  # lb/ft3, Rothermel 1972 p. 6
TOTAL_MINERAL = 0.0555  # fraction, Rothermel 1972 p. 6
EFFECTIVE_MINERAL = 0.010  # fraction, Rothermel 1972 p. 6
_TAC = 2000.0 / 43560.0  # t/ac -> lb/ft2


@dataclass(frozen=True)
class FuelModel:
    """One standard fuel model (customary US units, see the module docstring)."""

    number: int
    code: str
    name: str
    depth_ft: float
    mx_dead: float
    heat_dead: float
    heat_live: float
    load_1h: float
    load_10h: float
    load_100h: float
    load_herb: float
    load_woody: float
    sav_1h: float
    sav_herb: float
    sav_woody: float
    dynamic: bool = False

    @property
    def burnable(self) -> bool:
        """Whether the model carries any fuel (NB models do not)."""
        return (self.load_1h + self.load_10h + self.load_100h + self.load_herb
                + self.load_woody) > 0.0


def _m(number, code, name, depth, mx, l1, l10, l100, lh, lw, s1, sh, sw, dynamic=False,
       heat=8000.0) -> FuelModel:
    return FuelModel(number, code, name, depth, mx, heat, heat, l1, l10, l100, lh, lw,
                     s1, sh, sw, dynamic)


# Anderson 1982 table 1 (loads already in lb/ft2 as printed by BehavePlus/behave).
_ANDERSON = [
    _m(1, "FM1", "Short grass", 1.0, 0.12, 0.034, 0, 0, 0, 0, 3500, 1500, 1500),
    _m(2, "FM2", "Timber grass and understory", 1.0, 0.15, 0.092, 0.046, 0.023, 0.023, 0,
       3000, 1500, 1500),
    _m(3, "FM3", "Tall grass", 2.5, 0.25, 0.138, 0, 0, 0, 0, 1500, 1500, 1500),
    _m(4, "FM4", "Chaparral", 6.0, 0.20, 0.230, 0.184, 0.092, 0, 0.230, 2000, 1500, 1500),
    _m(5, "FM5", "Brush", 2.0, 0.20, 0.046, 0.023, 0, 0, 0.092, 2000, 1500, 1500),
    _m(6, "FM6", "Dormant brush, hardwood slash", 2.5, 0.25, 0.069, 0.115, 0.092, 0, 0,
       1750, 1500, 1500),
    _m(7, "FM7", "Southern rough", 2.5, 0.40, 0.052, 0.086, 0.069, 0, 0.017, 1750, 1500, 1500),
    _m(8, "FM8", "Short needle litter", 0.2, 0.30, 0.069, 0.046, 0.115, 0, 0, 2000, 1500, 1500),
    _m(9, "FM9", "Long needle or hardwood litter", 0.2, 0.25, 0.134, 0.019, 0.007, 0, 0,
       2500, 1500, 1500),
    _m(10, "FM10", "Timber litter and understory", 1.0, 0.25, 0.138, 0.092, 0.230, 0, 0.092,
       2000, 1500, 1500),
    _m(11, "FM11", "Light logging slash", 1.0, 0.15, 0.069, 0.207, 0.253, 0, 0, 1500, 1500, 1500),
    _m(12, "FM12", "Medium logging slash", 2.3, 0.20, 0.184, 0.644, 0.759, 0, 0,
       1500, 1500, 1500),
    _m(13, "FM13", "Heavy logging slash", 3.0, 0.25, 0.322, 1.058, 1.288, 0, 0, 1500, 1500, 1500),
]
# Scott & Burgan 2005 table 7 (loads printed in t/ac), the models the land-cover classes use
# plus GS4, the dynamic model of the BehavePlus test cases.
_SCOTT_BURGAN = [
    _m(91, "NB1", "Urban, developed", 1.0, 0.10, 0, 0, 0, 0, 0, 1500, 1500, 1500),
    _m(98, "NB8", "Open water", 1.0, 0.10, 0, 0, 0, 0, 0, 1500, 1500, 1500),
    _m(99, "NB9", "Bare ground", 1.0, 0.10, 0, 0, 0, 0, 0, 1500, 1500, 1500),
    _m(102, "GR2", "Low load, dry climate grass", 1.0, 0.15, 0.10 * _TAC, 0, 0, 1.0 * _TAC, 0,
       2000, 1800, 1500, dynamic=True),
    _m(121, "GS1", "Low load, dry climate grass-shrub", 0.9, 0.15, 0.2 * _TAC, 0, 0,
       0.5 * _TAC, 0.65 * _TAC, 2000, 1800, 1800, dynamic=True),
    _m(124, "GS4", "High load, humid climate grass-shrub", 2.1, 0.40, 1.9 * _TAC, 0.3 * _TAC,
       0.1 * _TAC, 3.4 * _TAC, 7.1 * _TAC, 1800, 1600, 1600, dynamic=True),
    _m(142, "SH2", "Moderate load, dry climate shrub", 1.0, 0.15, 1.35 * _TAC, 2.4 * _TAC,
       0.75 * _TAC, 0, 3.85 * _TAC, 2000, 1800, 1600, dynamic=True),
]
FUEL_MODELS: dict[str, FuelModel] = {}
for _fm in _ANDERSON + _SCOTT_BURGAN:
    FUEL_MODELS[str(_fm.number)] = _fm
    FUEL_MODELS[_fm.code] = _fm


def fuel_model(key: str | int, *, field: str = "fuel_model") -> FuelModel:
    """The standard fuel model named by number (``"10"``, ``124``) or code (``"FM10"``, ``"GS4"``).

    Raises
    ------
    EvacsimError
        ``field: unknown fuel model ...`` listing the known codes.
    """
    fm = FUEL_MODELS.get(str(key).strip().upper())
    if fm is None:
        known = ", ".join(sorted({m.code for m in FUEL_MODELS.values()}, key=_order))
        raise EvacsimError(f"{field}: expected a standard fuel model number or code "
                           f"({known}), got {key!r}")
    return fm


def _order(code: str) -> tuple:
    return (code.rstrip("0123456789"), int(code[len(code.rstrip("0123456789")):] or 0))
