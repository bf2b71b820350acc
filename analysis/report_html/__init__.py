"""The HTML report of a run folder (``evacsim report``): one self-contained page.

:func:`write_report` / :func:`render_report` (module :mod:`.build`); the page skeleton
and escaping in :mod:`.page`; the report's own figures in :mod:`.figures`; where each
scenario field's number comes from in :mod:`.assumptions`. The text summary printed at
the end of a run stays in :mod:`analysis.report`.
"""

from analysis.report_html.build import render_report, write_report

__all__ = ["render_report", "write_report"]
