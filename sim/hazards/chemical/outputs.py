"""Outputs of a chemical release: the time-series rows it records, its tables and arrays.

The mixin here records one row per update of :class:`sim.hazards.chemical.ChemicalHazard`
(zone areas, persons above each AEGL, injured, dead, links closed; the receptor's
concentration) and turns its state into the run-folder tables (``timeseries``,
``exposure``, ``receptor``, ``zones``) and arrays (peak-concentration grid, threat-zone
levels) that :mod:`sim.results` writes and :mod:`analysis.chemical` reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.hazards.chemical.protective_actions import ACTION_NAMES

_TIMESERIES_COLUMNS = (
    "t_s",
    "aegl1_area_m2",
    "aegl2_area_m2",
    "aegl3_area_m2",
    "persons_above_aegl1",
    "persons_above_aegl2",
    "persons_above_aegl3",
    "persons_injured",
    "persons_dead",
    "drive_km_closed",
    "walk_km_closed",
)
_RECEPTOR_COLUMNS = ("t_s", "receptor", "x_m", "y_m", "outdoor_ppm", "indoor_ppm")
_EXPOSURE_COLUMNS = (
    "household",
    "persons",
    "action",
    "max_ppm",
    "dose_ppm_min",
    "toxic_load",
    "aegl_level",
    "p_death",
    "deaths",
    "injured",
    "outcome",
    "indoors_share",
)


class _OutputsMixin:
    """Recorded rows, tables and arrays of :class:`sim.hazards.chemical.ChemicalHazard`.

    Relies on what :meth:`ChemicalHazard.bind <sim.hazards.chemical.ChemicalHazard.bind>`
    and the exposure updates set (the grid, the forecast, ``ex``, ``persons``, ``deaths``,
    ``injured``, ``actions``, the receptor) and on its ``value_at`` and ``_require_bound``.
    """

    def _record(self, t_s: float) -> None:
        key = round(t_s / self.cadence_s)
        on_lattice = abs(key * self.cadence_s - t_s) < 1e-6
        if on_lattice:
            areas = self._areas.get(key, (0.0, 0.0, 0.0))
        else:
            c = self.value_at(t_s, self._grid_x, self._grid_y)
            areas = tuple(
                float(np.count_nonzero(c >= a)) * self.grid_cell_m**2 for a in self.aegl_ppm
            )
        peak = self.ex.peak_ppm
        row = {"t_s": t_s}
        for k in (1, 2, 3):
            row[f"aegl{k}_area_m2"] = areas[k - 1]
        for k in (1, 2, 3):
            row[f"persons_above_aegl{k}"] = int(self.persons[peak >= self.aegl_ppm[k - 1]].sum())
        row["persons_injured"] = int(self.injured.sum())
        row["persons_dead"] = int(self.deaths.sum())
        for name in ("drive", "walk"):
            row[f"{name}_km_closed"] = (
                float(self._links[name][2][self._closed[name]].sum()) / 1000.0
            )
        self.rows.append(row)
        self.receptor_rows.append(
            {
                "t_s": t_s,
                "receptor": self.receptor_name,
                "x_m": self.receptor_xy[0],
                "y_m": self.receptor_xy[1],
                "outdoor_ppm": float(self._receptor_prev[0]),
                "indoor_ppm": float(self._receptor_ex.c_in_ppm[0]),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Run-folder tables: ``timeseries``, ``exposure``, ``receptor``, ``zones``."""
        self._require_bound()
        out = {
            "timeseries": pd.DataFrame(self.rows, columns=list(_TIMESERIES_COLUMNS)),
            "receptor": pd.DataFrame(self.receptor_rows, columns=list(_RECEPTOR_COLUMNS)),
            "zones": self._zones_table(),
        }
        out["exposure"] = (
            self._exposure_table()
            if self._people_ready
            else pd.DataFrame(columns=list(_EXPOSURE_COLUMNS))
        )
        return out

    def _exposure_table(self) -> pd.DataFrame:
        ex = self.ex
        hh = np.flatnonzero((ex.dose_ppm_min > 0.0) | (ex.peak_ppm > 0.0))
        peak = ex.peak_ppm[hh]
        level = np.zeros(hh.size, dtype=np.int64)
        for k, a in enumerate(self.aegl_ppm, start=1):
            level[peak >= a] = k
        deaths, injured = self.deaths[hh], self.injured[hh]
        outcome = np.where(deaths > 0, "death", np.where(injured > 0, "injury", "none"))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(
                ex.t_exposed_s[hh] > 0,
                ex.t_indoors_s[hh] / np.maximum(ex.t_exposed_s[hh], 1e-12),
                0.0,
            )
        actions = np.asarray(ACTION_NAMES + ("unset",), dtype=object)[self.actions[hh]]
        return pd.DataFrame(
            {
                "household": hh.astype(np.int64),
                "persons": self.persons[hh],
                "action": actions,
                "max_ppm": peak,
                "dose_ppm_min": ex.dose_ppm_min[hh],
                "toxic_load": ex.load[hh],
                "aegl_level": level,
                "p_death": self.substance.death_probability(ex.load[hh]),
                "deaths": deaths,
                "injured": injured,
                "outcome": outcome,
                "indoors_share": share,
            },
            columns=list(_EXPOSURE_COLUMNS),
        )

    def _zones_table(self) -> pd.DataFrame:
        rows = []
        dx = self._grid_x.reshape(self.grid_shape) - self.source_x_m
        dy = self._grid_y.reshape(self.grid_shape) - self.source_y_m
        dist = np.hypot(dx, dy)
        actions = self.spec.actions
        for k in (1, 2, 3):
            inside = self.level >= k
            rows.append(
                {
                    "zone": f"aegl{k}",
                    "aegl_ppm": float(self.aegl_ppm[k - 1]),
                    "duration_min": int(self.spec.aegl_duration_min),
                    "area_m2": float(np.count_nonzero(inside)) * self.grid_cell_m**2,
                    "length_m": float(dist[inside].max()) if inside.any() else 0.0,
                    "action": getattr(actions, f"aegl{k}"),
                }
            )
        return pd.DataFrame(rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """Peak-concentration grid (ppm) and threat-zone levels, with the grid geometry."""
        self._require_bound()
        return {
            "max_ppm": self.max_ppm.astype(np.float32),
            "level": self.level,
            "grid_x0_m": np.float64(self.grid_x0_m),
            "grid_y0_m": np.float64(self.grid_y0_m),
            "grid_cell_m": np.float64(self.grid_cell_m),
            "aegl_ppm": self.aegl_ppm.astype(np.float64),
            "source_xy_m": np.array([self.source_x_m, self.source_y_m]),
            "receptor_xy_m": np.array(self.receptor_xy, dtype=np.float64),
            "wind_t_s": self._wind_t,
            "wind_from_deg": self._wind_dir,
            "wind_speed_mps": self._wind_u,
        }

