"""Animation of a run for briefings: congestion and shelter fill over time.

One frame per sample of ``traffic/link_loads.npz`` (every ``[time] sample_s``; thinned to
at most ``max_frames``): drive links coloured by vehicles on them / their storage, shelters
as circles coloured by how full they are at that time (persons arrived by then /
capacity, from ``households.csv.gz``). matplotlib's animation writers: ``.mp4`` through
ffmpeg (Debian's ``ffmpeg`` package), ``.gif`` through Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Literal

import numpy as np

from sim._errors import RunFolderError
from sim.i18n import t

__all__ = ["animate_run", "shelter_fill_over_time"]


def shelter_fill_over_time(hh, shelters, t_s: np.ndarray) -> np.ndarray:
    """Persons arrived at each shelter by each time, int64[T, S].

    Parameters
    ----------
    hh : pandas.DataFrame
        Households (``shelter`` id text, ``t_arrive_s``, ``persons``).
    shelters : pandas.DataFrame
        Shelters table (``shelter`` id text), the column order of the result.
    t_s : numpy.ndarray
        Times, s from scenario start.
    """
    sid = {s: i for i, s in enumerate(shelters["shelter"].astype(str))}
    arr = hh["t_arrive_s"].to_numpy(np.float64)
    row = hh["shelter"].astype(str).map(sid).fillna(-1).to_numpy(np.int64)
    ok = np.isfinite(arr) & (row >= 0)
    out = np.zeros((t_s.size, len(sid)), dtype=np.int64)
    persons = hh["persons"].to_numpy(np.int64)
    for j in range(len(sid)):  # a loop over shelters (tens), not households
        m = ok & (row == j)
        order = np.argsort(arr[m], kind="stable")
        cum = np.concatenate([[0], np.cumsum(persons[m][order])])
        out[:, j] = cum[np.searchsorted(arr[m][order], t_s, side="right")]
    return out


def animate_run(run_dir: str | Path, out: str | Path, *, lang: Literal["en", "zh"] = "en",
                fps: int = 6, max_frames: int = 240, force: bool = False) -> tuple[Path, int]:
    """Write an animation of congestion and shelter fill over the run.

    Parameters
    ----------
    run_dir : str or Path
        A finished run folder of format version 3 (with ``traffic/link_loads.npz``).
    out : str or Path
        ``.mp4`` (needs ffmpeg on PATH) or ``.gif``.
    lang : {"en", "zh"}, default "en"
        Label language.
    fps : int, default 6
        Frames per second of the video.
    max_frames : int, default 240
        Every k-th sample is drawn so that at most this many frames are written.
    force : bool, default False
        Replace an existing ``out``.

    Returns
    -------
    (Path, int)
        The file and the number of frames.

    Raises
    ------
    RunFolderError
        Not a finished run folder; ``out`` exists without ``force``; a suffix other than
        ``.mp4``/``.gif``; ``.mp4`` without ffmpeg.
    """
    from matplotlib import animation, colormaps
    from matplotlib.collections import LineCollection

    from analysis.linkloads import read_link_loads
    from analysis.mapstyle import decorate_map
    from analysis.plotting import _label_lang_and_font, _new_figure
    from analysis.runfolder import check_run_folder
    from analysis.tables import _households, read_table

    if fps < 1 or max_frames < 1:
        raise RunFolderError(f"animate: fps and max_frames: expected whole numbers >= 1, got "
                             f"{fps} and {max_frames}")
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise RunFolderError(t("seeit.anim.bad_suffix", lang, path=out, suffix=out.suffix))
    if suffix == ".mp4" and (shutil.which("ffmpeg") is None
                             or not animation.writers.is_available("ffmpeg")):
        raise RunFolderError(t("seeit.anim.no_ffmpeg", lang, path=out))
    if out.exists() and not force:
        raise RunFolderError(t("seeit.anim.exists", lang, path=out))
    run_dir = Path(run_dir)
    check_run_folder(run_dir)
    loads = read_link_loads(run_dir)
    links = read_table(run_dir, "links")
    drive = links[links["network"] == "drive"].sort_values("link")
    shelters = read_table(run_dir, "shelters")
    hh = _households(run_dir)
    step = max(1, -(-loads["t_s"].size // max_frames))
    frames = np.arange(0, loads["t_s"].size, step)
    t_s = loads["t_s"][frames]
    fill = shelter_fill_over_time(hh, shelters, t_s)
    cap = np.maximum(shelters["capacity"].to_numpy(np.float64), 1.0)
    storage = np.maximum(drive["storage"].to_numpy(np.float64), 1.0)
    ids = drive["link"].to_numpy(np.int64)
    seg = np.stack([drive[["x0_m", "y0_m"]].to_numpy(np.float64),
                    drive[["x1_m", "y1_m"]].to_numpy(np.float64)], axis=1)

    label_lang, kw = _label_lang_and_font(lang)
    fig = _new_figure(7.5, 6.5)
    fig.set_dpi(90)
    ax = fig.add_subplot()
    ax.add_collection(LineCollection(seg, colors="0.85", linewidths=0.4, zorder=0))
    cmap = colormaps["YlOrRd"]
    lines = LineCollection(seg, cmap=cmap, zorder=1)
    lines.set_clim(0.0, 1.0)
    ax.add_collection(lines)
    cb = fig.colorbar(lines, ax=ax, shrink=0.6)
    cb.set_label(t("seeit.anim.load", label_lang), **kw)
    size = 20.0 + 200.0 * cap / cap.max()
    dots = ax.scatter(shelters["x_m"], shelters["y_m"], s=size, c=np.zeros(len(cap)),
                      cmap="viridis", vmin=0.0, vmax=1.0, edgecolors="black", linewidths=0.6,
                      zorder=2)
    cb2 = fig.colorbar(dots, ax=ax, shrink=0.6)
    cb2.set_label(t("seeit.anim.fill", label_lang), **kw)
    pts = np.concatenate([seg.reshape(-1, 2),
                          shelters[["x_m", "y_m"]].to_numpy(np.float64)])
    ax.set_xlim(pts[:, 0].min() - 200, pts[:, 0].max() + 200)
    ax.set_ylim(pts[:, 1].min() - 200, pts[:, 1].max() + 200)
    decorate_map(ax, origin_xy=(float(pts[:, 0].min()), float(pts[:, 1].min())),
                 lang=label_lang, font=kw)
    title = ax.set_title("", **kw)

    def draw(k: int):
        ratio = np.clip(loads["count"][frames[k], ids] / storage, 0.0, 1.0)
        on = ratio > 0.02
        lines.set_segments(seg[on])
        lines.set_array(ratio[on])
        lines.set_linewidths(0.6 + 2.0 * ratio[on])
        dots.set_array(np.clip(fill[k] / cap, 0.0, 1.0))
        title.set_text(t("seeit.anim.title", label_lang, hours=float(t_s[k]) / 3600.0))
        return lines, dots, title

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), blit=False)
    # yuv420p (what every player reads) needs even frame sides: pad by one pixel if odd.
    writer = (animation.FFMpegWriter(fps=fps, codec="libx264",
                                     extra_args=["-pix_fmt", "yuv420p", "-vf",
                                                 "pad=ceil(iw/2)*2:ceil(ih/2)*2"])
              if suffix == ".mp4" else animation.PillowWriter(fps=fps))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{suffix}")
    try:
        anim.save(tmp, writer=writer, dpi=90)
        tmp.replace(out)
    except subprocess.CalledProcessError as err:
        raise RunFolderError(f"{out}: ffmpeg failed ({err}); write a .gif instead") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out, len(frames)
