"""One inject of a Master Scenario Events List, before it is numbered and rendered."""

from __future__ import annotations

from dataclasses import dataclass, field

OBJECTIVES = ("warning", "reporting", "response", "relief", "evacuation")
"""Objective ids, in the order of the evaluation guide (O1 ... O5)."""


@dataclass(frozen=True)
class Inject:
    """A candidate inject: what happened in the run and who hears of it.

    Attributes
    ----------
    t_s : float
        Scenario time, seconds from the run's start (the event's own time).
    key : str
        Catalogue key stem: texts are ``drill.inject.<key>.{msg,action,note}``.
    fmt : dict
        Placeholder values of the texts; every number in it is a value of ``source``
        (or a rounding of one: percent to 0.1, seconds to whole minutes).
    source : str
        Where the figures come from, ``;``-separated: ``events.csv#row=N``,
        ``metrics.json#/json/pointer``, ``manifest.json#/pointer``, ``<table>#<col>=<value>``,
        ``<table>#row=N``, or a count query (``households.csv.gz#arrived:shelter=S,t<=T``,
        ``hazard/response_incidents.csv#waiting:t=T``).
    names : tuple of str
        Place names quoted in the text (they may contain digits that are not figures).
    sender, to : str
        Simulated sender (``drill.sender.*``) and player role (``drill.role.*``).
    method : str
        ``phone``, ``radio``, ``message``, ``media`` or ``video``.
    objective : str
        One of :data:`OBJECTIVES`.
    subject : str
        What the inject is about (dedup: one inject per key and subject).
    priority : int
        Lower is kept first when the density forces a choice.
    contingency : bool
        To be used only if players have not acted (HSEEP contingency inject).
    origin : str
        ``event`` (from the run's events and metrics) or ``templated`` (media/public,
        chosen with the seed).
    variant : str
        Id of the variant run it comes from; empty for the base run.
    """

    t_s: float
    key: str
    fmt: dict = field(default_factory=dict)
    source: str = ""
    names: tuple[str, ...] = ()
    sender: str = "monitoring_centre"
    to: str = "eoc_commander"
    method: str = "phone"
    objective: str = "reporting"
    subject: str = ""
    priority: int = 5
    contingency: bool = False
    origin: str = "event"
    variant: str = ""
