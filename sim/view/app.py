"""The SolaraViz page of the live view (what ``evacsim view`` serves).

Built from a :class:`ViewConfig`; ``solara`` loads this module as its app
(``SOLARA_APP=sim.view.app``) and reads the config from the ``EVACSIM_VIEW`` environment
variable (JSON) that :mod:`sim.view.serve` sets. Mesa's SolaraViz provides the controls
(Reset, play/pause, Step, play interval = speed, render interval) and the model-parameter
inputs; the components here draw the map (:class:`sim.view.draw.MapFigure`), the charts
(:class:`sim.view.draw.ChartsFigure`) and the clock.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENV_VAR = "EVACSIM_VIEW"
"""Environment variable holding the page's :class:`ViewConfig` as JSON."""


@dataclass(frozen=True)
class ViewConfig:
    """What the page runs: the scenario, the plans on offer, the language, frame length."""

    scenario_path: str
    plans: dict[str, str] = field(default_factory=dict)
    plan: str = "none"
    lang: str = "en"
    frame_s: float = 60.0
    seed: int | None = None
    cache_dir: str | None = None

    def to_json(self) -> str:
        """The config as JSON (for :data:`ENV_VAR`)."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_env(cls) -> ViewConfig:
        """Read :data:`ENV_VAR` (raises KeyError when unset)."""
        return cls(**json.loads(os.environ[ENV_VAR]))


def clock_text(model, lang: str) -> str:
    """The clock line the page shows: model time hh:mm:ss, frames stepped, frame length.

    Examples
    --------
    >>> class M:
    ...     t_s, steps, frame_s = 3725.0, 62, 60.0
    >>> clock_text(M(), "en")
    'Time 01:02:05 (step 62, 60 s of model time per frame)'
    """
    from sim.i18n import t

    s = int(round(model.t_s))
    clock = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return t("view.clock", lang, clock=clock, steps=model.steps, frame_s=model.frame_s)


def params_text(model, lang: str) -> str:
    """The parameters the current model was built with (changes after a Reset)."""
    from sim.i18n import t

    p = model.params
    plan = p["plan"] if p["plan"] != "none" else t("view.no_plan", lang)
    return t("view.params", lang, coverage=p["warning_coverage"], start=p["warning_start_min"],
             compliance=p["compliance"], cars=p["car_ownership"], plan=plan,
             hazard=p["hazard_scale"])


def model_params(config: ViewConfig, model, network) -> dict:
    """SolaraViz ``model_params``: the planner's inputs (sliders, plan select) and fixed ones."""
    from mesa.visualization import Slider

    from sim.i18n import t

    lang = config.lang
    p = model.params
    return {
        "scenario_path": config.scenario_path,
        "plans": dict(config.plans),
        "network": network,
        "seed": config.seed,
        "cache_dir": config.cache_dir,
        "warning_coverage": Slider(t("view.param_coverage", lang), value=p["warning_coverage"],
                                   min=0.0, max=1.0, step=0.05, dtype=float),
        "warning_start_min": Slider(t("view.param_start", lang), value=p["warning_start_min"],
                                    min=0.0, max=180.0, step=5.0, dtype=float),
        "compliance": Slider(t("view.param_compliance", lang), value=p["compliance"],
                             min=0.0, max=1.0, step=0.05, dtype=float),
        "car_ownership": Slider(t("view.param_cars", lang), value=p["car_ownership"],
                                min=0.0, max=1.0, step=0.05, dtype=float),
        "plan": {"type": "Select", "label": t("view.param_plan", lang), "value": p["plan"],
                 "values": ["none", *config.plans]},
        "hazard_scale": Slider(t("view.param_hazard", lang), value=p["hazard_scale"],
                               min=0.25, max=4.0, step=0.25, dtype=float),
        "frame_s": Slider(t("view.param_frame", lang), value=float(model.frame_s), min=5.0,
                          max=600.0, step=5.0, dtype=float),
    }


def make_page(config: ViewConfig):
    """Render the page of ``config``; call it inside a solara component's render.

    Mesa's SolaraViz draws the app bar and the sidebar (controls, the model parameters,
    the step counter) around one reactive model; the clock, the map and the charts follow
    in the main area and re-render on every step and reset (Mesa's ``update_counter``).

    Notes
    -----
    The components are not handed to SolaraViz's ``components``: Mesa 3.3.1 lays them out
    with ``solara.v.TabsItems``, which ipyvuetify 3 no longer has (the page would fail
    with an AttributeError); with an empty list SolaraViz skips that layout.
    """
    with warnings.catch_warnings():
        # solara's hook linter warns about Mesa 3.3's own ComponentsView on import.
        warnings.simplefilter("ignore", UserWarning)
        import solara
        from mesa.visualization import SolaraViz

    from sim.i18n import t
    from sim.view.draw import ChartsFigure, MapFigure
    from sim.view.live import LiveModel

    lang = config.lang
    cache = Path(config.cache_dir) if config.cache_dir else None
    # One model per browser session, built on the session's first render only.
    model = solara.use_memo(
        lambda: solara.reactive(LiveModel(scenario_path=config.scenario_path,
                                          plans=config.plans, plan=config.plan,
                                          frame_s=config.frame_s, seed=config.seed,
                                          cache_dir=cache)), [])
    params = solara.use_memo(lambda: model_params(config, model.value, model.value.sim.net), [])
    SolaraViz(model, components=[], model_params=params,
              name=t("view.title", lang, name=Path(config.scenario_path).stem),
              play_interval=50)
    clock, figure = _components()
    with solara.Column(style={"padding": "8px"}):
        clock(model, lang)
        with solara.Row():
            figure(model, "_view_map", MapFigure, lang)
            figure(model, "_view_charts", ChartsFigure, lang)


@functools.cache
def _components():
    """The clock and figure components (defined on first use: solara loads lazily)."""
    import solara
    from mesa.visualization.utils import update_counter

    @solara.component
    def Clock(reactive_model, lang: str):
        update_counter.get()  # re-render after every step and reset
        model = reactive_model.value
        with solara.Column(gap="2px") as col:
            # Text, not Markdown: solara's Markdown loads mermaid from a CDN.
            solara.Text(clock_text(model, lang), classes=["evacsim-clock"],
                        style={"font-weight": "bold"})
            solara.Text(params_text(model, lang))
            from sim.i18n import t

            solara.Text(t("view.persons", lang, persons=model.sim.pop.n_persons))
        return col

    @solara.component
    def Figure(reactive_model, attr: str, cls, lang: str):
        tick = update_counter.get()
        model = reactive_model.value
        fig = getattr(model, attr, None)
        if fig is None:
            fig = cls(model, lang=lang)
            setattr(model, attr, fig)
        else:
            fig.update()
        png = solara.use_memo(fig.png, dependencies=[id(model), model.steps, tick])
        return solara.Image(png, format="png")

    return Clock, Figure


def __getattr__(name: str):
    """``Page``: the page of the config in :data:`ENV_VAR`, built when solara asks for it."""
    if name == "Page":
        import solara

        config = ViewConfig.from_env()

        @solara.component
        def Page():
            return make_page(config)

        return Page
    raise AttributeError(name)
