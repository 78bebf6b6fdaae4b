"""Module clusters and collapsing: where each vertex is drawn.

A vertex recorded inside modules has a module path (outermost first). With `group_modules`, it is drawn inside
nested clusters, one per module on its path; parameters and buffers go into the cluster of the module that owns
them. With `max_depth=k` (the root module is depth 0), every module at depth k becomes one box: the ops under it
and the parameters it owns are folded into that box, which shows its in/out shapes and parameter count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .walk import GraphIndex, OP


@dataclass
class Group:
    """A collapsed module: one drawn box standing for `members` (vertex keys)."""

    key: str
    module: Any
    path: tuple  # ids of the modules from the root to this one
    members: list = field(default_factory=list)
    in_shapes: list = field(default_factory=list)
    out_shapes: list = field(default_factory=list)


@dataclass
class Layout:
    """display[key] is the DOT node a vertex is drawn as (itself or its group); cluster_of[display key] the path of
    the cluster it sits in (() = top level); clusters maps every drawn cluster path to its module."""

    display: dict
    cluster_of: dict
    clusters: dict
    groups: dict  # group key -> Group


def _owner_paths(index: GraphIndex, paths: dict) -> dict:
    """For parameter/buffer vertices: the module path of the module that owns them, when that module ran."""
    out = {}
    for key, v in index.vertices.items():
        if v.kind == OP or not v.name:
            continue
        owner = index.naming.owner_of(v.name)
        if owner is not None and id(owner) in paths:
            out[key] = paths[id(owner)]
    return out


def layout(index: GraphIndex, group_modules: bool, max_depth: int | None) -> Layout:
    paths: dict = {}  # id(module) -> module path (tuple of modules) as first seen
    vpath: dict = {}
    for key, v in index.vertices.items():
        if v.kind == OP and v.modules:
            vpath[key] = v.modules
            for d in range(len(v.modules)):
                paths.setdefault(id(v.modules[d]), v.modules[: d + 1])
    vpath.update(_owner_paths(index, paths))
    display = {k: k for k in index.vertices}
    groups: dict = {}
    group_by_path: dict = {}
    if max_depth is not None:
        if max_depth < 0:
            raise ValueError(f"draw_graph: max_depth must be >= 0 (the root module is depth 0), got {max_depth}")
        ordered = sorted(vpath.items(), key=lambda kv: index.vertices[kv[0]].kind != OP)  # ops make groups
        for key, mods in ordered:
            if len(mods) <= max_depth:
                continue
            gpath = tuple(id(m) for m in mods[: max_depth + 1])
            g = group_by_path.get(gpath)
            if g is None:
                if index.vertices[key].kind != OP:
                    continue  # a parameter whose module never ran as a unit: draw it on its own
                g = group_by_path[gpath] = Group(f"g{len(groups)}", mods[max_depth], gpath)
                groups[g.key] = g
            g.members.append(key)
            display[key] = g.key
        _boundary_shapes(index, display, groups)
    cluster_of: dict = {}
    clusters: dict = {}
    if group_modules:
        for key, mods in vpath.items():
            depth = len(mods) if display[key] == key else max_depth  # a group sits in its parent's cluster
            cpath = tuple(id(m) for m in mods[:depth])
            cluster_of[display[key]] = cpath
            for d in range(len(cpath)):
                clusters.setdefault(cpath[: d + 1], mods[d])
    return Layout(display, cluster_of, clusters, groups)


def _boundary_shapes(index: GraphIndex, display: dict, groups: dict) -> None:
    """In/out shapes of each group: the shapes on links that cross its boundary (each distinct source once)."""
    seen_in: set = set()
    seen_out: set = set()
    for ln in index.links:
        s, d = display[ln.src], display[ln.dst]
        if s == d:
            continue
        if d in groups and (ln.src, ln.nr, d) not in seen_in:
            seen_in.add((ln.src, ln.nr, d))
            groups[d].in_shapes.append(ln.shape)
        if s in groups and (ln.src, ln.nr) not in seen_out:
            seen_out.add((ln.src, ln.nr))
            groups[s].out_shapes.append(ln.shape)


__all__ = ["Group", "Layout", "layout"]
