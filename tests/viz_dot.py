"""A small DOT reader for the visualisation tests: nodes with attributes, edges, and nested clusters.

It reads the statements graphviz emits (one per line): `name [a=b ...]`, `a -> b [..]`, `subgraph cluster_x {`,
cluster attribute lines and `}`. Enough to count nodes and edges and to see which cluster holds which node.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_NODE = re.compile(r'^\s*("?[\w.]+"?)\s*\[(.*)\]\s*$')
_EDGE = re.compile(r'^\s*("?[\w.]+"?)\s*->\s*("?[\w.]+"?)\s*(?:\[(.*)\])?\s*$')


def _attrs(text: str) -> dict:
    out = {}
    for k, v in _ATTR.findall(text or ""):
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"')
        out[k] = v
    return out


@dataclass
class Cluster:
    name: str
    parent: str | None
    attrs: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.attrs.get("label", "")


@dataclass
class Dot:
    nodes: dict  # name -> attrs
    edges: list  # (src, dst, attrs)
    clusters: dict  # name -> Cluster
    node_cluster: dict  # node -> innermost cluster name (absent: top level)

    def label(self, name: str) -> str:
        return self.nodes[name].get("label", "")

    def lines(self, name: str) -> list:
        return self.label(name).split("\\n")

    def by_title(self, title: str) -> list:
        """Nodes whose first label line is `title`."""
        return [n for n in self.nodes if self.lines(n)[0] == title]

    def graph_nodes(self) -> list:
        """Nodes except the legend's."""
        return [n for n in self.nodes if not n.startswith("legend")]

    def cluster_by_label(self, label: str) -> Cluster:
        matches = [c for c in self.clusters.values() if c.label == label]
        assert len(matches) == 1, f"{len(matches)} clusters labelled {label!r}: {[c.label for c in self.clusters.values()]}"
        return matches[0]


def parse_dot(source: str) -> Dot:
    nodes, edges, clusters, node_cluster = {}, [], {}, {}
    stack: list = []
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("digraph") or line.startswith("graph [") or line.startswith("node [") \
                or line.startswith("edge ["):
            continue
        if line.startswith("subgraph"):
            name = line.split()[1]
            clusters[name] = Cluster(name, stack[-1] if stack else None)
            stack.append(name)
            continue
        if line == "}":
            if stack:
                stack.pop()
            continue
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1).strip('"'), m.group(2).strip('"'), _attrs(m.group(3))))
            continue
        m = _NODE.match(line)
        if m:
            name = m.group(1).strip('"')
            nodes[name] = _attrs(m.group(2))
            if stack:
                node_cluster[name] = stack[-1]
                clusters[stack[-1]].nodes.append(name)
            continue
        if stack and "=" in line:  # a cluster's own attributes
            clusters[stack[-1]].attrs.update(_attrs(line))
    return Dot(nodes, edges, clusters, node_cluster)


def cluster_chain(dot: Dot, node: str) -> list:
    """Labels of the clusters around `node`, outermost first."""
    out = []
    c = dot.node_cluster.get(node)
    while c is not None:
        out.append(dot.clusters[c].label)
        c = dot.clusters[c].parent
    return out[::-1]


def have_dot() -> bool:
    return shutil.which("dot") is not None


def render_svg(source: str) -> str:
    """Render with the real `dot` binary (the tests skip when it is missing)."""
    return subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True,
                          timeout=60).stdout.decode()
