"""``evacsim report`` and ``evacsim animate``: argparse wiring (registered by sim/cli.py).

The work is in :mod:`analysis.report_html` and :mod:`analysis.animate`, imported only when
a command runs, so ``evacsim --help`` stays light.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` and ``animate`` sub-commands."""
    rep = sub.add_parser("report", help="write a self-contained HTML report of a run folder")
    rep.add_argument("run", type=Path, help="run folder")
    rep.add_argument("--compare", type=Path, default=None,
                     help="a second run folder, shown side by side (B - A)")
    rep.add_argument("--lang", choices=("en", "zh"), default="en")
    rep.add_argument("-o", "--out", type=Path, default=None,
                     help="HTML file (default: RUN/report.html)")
    rep.add_argument("--force", action="store_true", help="replace an existing file")
    rep.set_defaults(func=_cmd_report)

    ani = sub.add_parser("animate", help="animate congestion and shelter fill (mp4 or gif)")
    ani.add_argument("run", type=Path, help="run folder")
    ani.add_argument("-o", "--out", type=Path, required=True, help="evac.mp4 or evac.gif")
    ani.add_argument("--lang", choices=("en", "zh"), default="en")
    ani.add_argument("--fps", type=int, default=6)
    ani.add_argument("--max-frames", type=int, default=240,
                     help="draw every k-th sample so at most this many frames are written")
    ani.add_argument("--force", action="store_true", help="replace an existing file")
    ani.set_defaults(func=_cmd_animate)


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.report_html import write_report
    from sim.i18n import t

    started = time.perf_counter()
    path = write_report(args.run, args.out, compare=args.compare, lang=args.lang,
                        force=args.force)
    print(t("seeit.anim.report_written", args.lang, path=path,
            seconds=time.perf_counter() - started))
    return 0


def _cmd_animate(args: argparse.Namespace) -> int:
    from analysis.animate import animate_run
    from sim.i18n import t

    path, frames = animate_run(args.run, args.out, lang=args.lang, fps=args.fps,
                               max_frames=args.max_frames, force=args.force)
    print(t("seeit.anim.written", args.lang, path=path, frames=frames))
    return 0
