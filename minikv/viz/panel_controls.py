"""The control rows of a ClusterPanel, one function per row; each returns plain ipywidgets.

Every button runs a cluster verb through the panel's `act(what, verb)`, which shows the outcome
in the panel's status line. A button's description says what it does to whom ("kill n2"): it is
the label a learner reads, the first words of the status line, and the name tests click by.
The verbs are the ones tests and notebooks call (`cluster.kill("n2")`): the panel adds no
behaviour of its own, only buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import ipywidgets as widgets

Verb = Callable[[], str | None]  # does one thing to the cluster; may return a detail to show
Act = Callable[[str, Verb], None]  # the panel's act(what, verb)
Buttons = dict[str, widgets.Button]  # {description: button}, what tests click by
NODE_VERBS = ("kill", "restart", "pause", "resume", "remove")
NODE_BUTTON_STYLE = {"kill": "danger", "restart": "success", "pause": "warning", "resume": "info", "remove": ""}


def verb_button(description: str, act: Act, verb: Verb, buttons: Buttons, style: str = "") -> widgets.Button:
    """A button that runs `verb` through `act` and is registered under its description."""
    button = widgets.Button(description=description, button_style=style,
                            layout=widgets.Layout(width="auto", min_width="86px"))
    button.on_click(lambda _button: act(description, verb))
    buttons[description] = button
    return button


# ---- one row per node --------------------------------------------------------------------------

def node_row(cluster: Any, node_id: str, act: Act, buttons: Buttons) -> tuple[widgets.HBox, widgets.HTML]:
    """The node's state, then kill / restart / pause / resume / remove buttons naming it."""
    state = widgets.HTML(layout=widgets.Layout(width="150px"))
    verbs = {"kill": cluster.kill, "restart": cluster.restart, "pause": cluster.pause,
             "resume": cluster.resume, "remove": cluster.remove_node}
    row = [state] + [verb_button(f"{name} {node_id}", act, partial(verbs[name], node_id), buttons,
                                 NODE_BUTTON_STYLE[name]) for name in NODE_VERBS]
    return widgets.HBox(row), state


def forget_node(node_id: str, buttons: Buttons) -> None:
    """Close and unregister the buttons of a node that left the cluster."""
    for name in NODE_VERBS:
        button = buttons.pop(f"{name} {node_id}", None)
        if button is not None:
            button.close()


# ---- network partitions ------------------------------------------------------------------------

def parse_groups(text: str, node_ids: list[str]) -> list[list[str]]:
    """ "n1 | n2,n3" -> [["n1"], ["n2", "n3"]]; nodes named in no group form one more group."""
    groups = [[n.strip() for n in part.split(",") if n.strip()] for part in text.split("|")]
    groups = [g for g in groups if g]
    named = [n for g in groups for n in g]
    if not groups:
        raise ValueError('name the groups, e.g. "n1 | n2,n3"')
    unknown = sorted(set(named) - set(node_ids))
    if unknown:
        raise ValueError(f"no node {', '.join(unknown)}; nodes are {', '.join(node_ids)}")
    if len(named) != len(set(named)):
        raise ValueError("a node can be on one side of a partition only")
    return groups


def partition_row(cluster: Any, act: Act, buttons: Buttons) -> tuple[widgets.HBox, widgets.Text]:
    """A text field for the groups ("n1 | n2,n3"), apply, and heal (which also clears slow and
    lossy links: `heal()` restores every link)."""
    groups = widgets.Text(placeholder="n1 | n2,n3", description="groups",
                          layout=widgets.Layout(width="260px"))

    def apply() -> str:
        sides = parse_groups(groups.value, cluster.node_ids)
        cluster.partition(*sides)
        return " | ".join(",".join(side) for side in sides)

    return widgets.HBox([groups, verb_button("apply partition", act, apply, buttons, "danger"),
                         verb_button("heal", act, cluster.heal, buttons, "success")]), groups


# ---- slow and lossy links ----------------------------------------------------------------------

@dataclass
class LinkControls:
    """Two nodes, a delay and a loss rate, and a button that applies both to their link."""

    box: widgets.HBox
    ends: list[widgets.Dropdown]
    delay: widgets.FloatSlider  # seconds added each way
    loss: widgets.FloatSlider  # probability that a message is lost


def link_row(cluster: Any, act: Act, buttons: Buttons) -> LinkControls:
    """The link controls; "apply link faults" slows the link if delay > 0, loses messages if loss > 0."""
    ids = cluster.node_ids
    ends = [widgets.Dropdown(options=ids, value=ids[0], description="link", layout=widgets.Layout(width="150px")),
            widgets.Dropdown(options=ids, value=ids[min(1, len(ids) - 1)], description="to",
                             layout=widgets.Layout(width="130px"))]
    for end in ends:
        end.style.description_width = "36px"
    slider = widgets.Layout(width="250px")
    delay = widgets.FloatSlider(0.1, min=0.0, max=1.0, step=0.01, description="delay s", readout_format=".2f",
                                layout=slider)
    loss = widgets.FloatSlider(0.0, min=0.0, max=1.0, step=0.05, description="loss", readout_format=".0%",
                               layout=slider)

    def apply() -> str:
        a, b = ends[0].value, ends[1].value
        if a == b:
            raise ValueError("pick two different nodes")
        if delay.value == 0 and loss.value == 0:
            raise ValueError("a delay or a loss rate, please (heal restores every link)")
        if delay.value > 0:
            cluster.slow_link(a, b, delay.value)
        if loss.value > 0:
            cluster.drop(a, b, loss.value)
        return f"{a}-{b} +{delay.value:.2f} s, loses {loss.value:.0%}"

    box = widgets.HBox([*ends, delay, loss, verb_button("apply link faults", act, apply, buttons, "warning")])
    return LinkControls(box, ends, delay, loss)


# ---- background load ---------------------------------------------------------------------------

Labels = dict[str, widgets.Label]  # {"throughput" | "errors" | "in doubt" | "last error": label}


def load_row(on_toggle: Callable[[bool], None]) -> tuple[widgets.HBox, widgets.ToggleButton, Labels]:
    """A toggle, and labels for throughput, definite errors and in-doubt writes."""
    toggle = widgets.ToggleButton(description="background load", icon="play", value=False)
    toggle.observe(lambda change: setattr(toggle, "icon", "stop" if change["new"] else "play"), names="value")
    toggle.observe(lambda change: on_toggle(change["new"]), names="value")
    labels = {name: widgets.Label(layout=widgets.Layout(width=width)) for name, width in
              (("throughput", "240px"), ("errors", "110px"), ("in doubt", "110px"), ("last error", "auto"))}
    return widgets.HBox([toggle, *labels.values()]), toggle, labels


# ---- simulated time ----------------------------------------------------------------------------

def time_row(driver: Any, act: Act, buttons: Buttons) -> widgets.HBox:
    """Play, pause, step and the speed of simulated time (virtual seconds per wall second)."""
    speed = widgets.FloatLogSlider(value=driver.speed, base=10, min=-2, max=1, step=0.1,
                                   description="speed x", readout_format=".2f")
    speed.observe(lambda change: setattr(driver, "speed", change["new"]), names="value")
    return widgets.HBox([verb_button("play", act, driver.play, buttons, "success"),
                         verb_button("pause", act, driver.pause, buttons, "warning"),
                         verb_button("step", act, driver.step, buttons), speed])
