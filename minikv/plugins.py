"""Plug a learner's function into a cluster: `plugins={"incoming_wins": my_function}`.

A plugin is named by a hook (`minikv.core.hooks.HOOK_NAMES`) and given either as a function or as
a "module:function" string. Node processes cannot receive a function object, so LocalCluster
turns each function into its import path; the function must therefore live at the top level of
an importable module (an `exercises/` file, say), not in a notebook cell. SimCluster, which runs
in the notebook's own process, accepts any function.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from minikv.core.hooks import DEFAULT_HOOKS, HOOK_NAMES, Hooks

Plugin = Callable[..., Any] | str


def import_path(function: Plugin) -> str:
    """The "module:function" string a node process can import `function` from."""
    if isinstance(function, str):
        return function
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if module in (None, "__main__") or "<" in name or "." in name:
        raise ValueError(f"{name or function!r} is defined in a notebook or inside another function; "
                         "a node process cannot import it. Put it at the top of a module (e.g. in "
                         "exercises/) or use SimCluster, which runs in this process.")
    return f"{module}:{name}"


def resolve(plugin: Plugin) -> Callable[..., Any]:
    """The function a plugin names."""
    if not isinstance(plugin, str):
        return plugin
    module, _, name = plugin.partition(":")
    if not module or not name:
        raise ValueError(f"plugin {plugin!r} must look like 'package.module:function'")
    return getattr(importlib.import_module(module), name)


def load_hooks(plugins: Mapping[str, Plugin] | None) -> Hooks:
    """A Hooks object with minikv's defaults replaced by the given plugins."""
    if not plugins:
        return DEFAULT_HOOKS
    unknown = sorted(set(plugins) - set(HOOK_NAMES))
    if unknown:
        raise ValueError(f"unknown hook(s) {unknown}; hooks are {list(HOOK_NAMES)}")
    return Hooks(**{name: resolve(plugin) for name, plugin in plugins.items()})
