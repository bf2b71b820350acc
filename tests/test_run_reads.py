"""analysis.tables.reuse_reads: a run folder's table parsed once while it is being written.

sim.runs.write_run reads its fresh households table for the metrics and again for each
figure; inside ``reuse_reads`` the second read is a copy of the first (issue 17 part 5).
"""

from __future__ import annotations

import pandas as pd

from analysis import tables
from analysis.tables import read_table, reuse_reads

EVENTS = "t_s,kind,where,who,value,message\n0.0,scenario_start,,,10.0,start\n"


def test_reads_inside_the_block_parse_once_and_return_independent_copies(tmp_path, monkeypatch):
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    calls = []
    real = pd.read_csv

    def counting(*a, **k):
        calls.append(k.get("nrows"))
        return real(*a, **k)

    monkeypatch.setattr(tables.pd, "read_csv", counting)
    with reuse_reads():
        a = read_table(tmp_path, "events")
        a.loc[0, "value"] = -1.0  # a caller's change must not reach the next reader
        b = read_table(tmp_path, "events")
    assert calls.count(None) == 1  # one full parse (the header probes are cheap)
    assert b.loc[0, "value"] == 10.0 and b["kind"].tolist() == ["scenario_start"]
    # Outside the block every read parses the file as it is now.
    (tmp_path / "events.csv").write_text(EVENTS.replace("10.0", "12.5"), encoding="utf-8")
    assert read_table(tmp_path, "events").loc[0, "value"] == 12.5
    assert calls.count(None) == 2
