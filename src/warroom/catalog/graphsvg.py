"""Server-side SVG drawing of a dependency neighbourhood (no JavaScript, no CDN).

Layers run left to right: callers on the left, what they depend on to the right. The focus
service is highlighted; every box links to its service page and carries a <title> for
screen readers and hover text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from warroom.catalog.schemas import GraphEdge
from warroom.engines.graphs import adjacency, layered_layout

BOX_W, BOX_H = 150, 34
GAP_X, GAP_Y = 70, 18
PAD = 12


@dataclass(frozen=True)
class Box:
    name: str
    x: int
    y: int


def render_graph_svg(focus: str, nodes: Sequence[str], edges: Sequence[GraphEdge]) -> str:
    graph = adjacency((edge.source, edge.target) for edge in edges)
    for node in nodes:
        graph.setdefault(node, [])
    placements = layered_layout(graph)
    boxes = {
        name: Box(name, PAD + p.layer * (BOX_W + GAP_X), PAD + p.slot * (BOX_H + GAP_Y))
        for name, p in placements.items()
    }
    width = max(b.x for b in boxes.values()) + BOX_W + PAD
    height = max(b.y for b in boxes.values()) + BOX_H + PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="graph-title">',
        f'<title id="graph-title">Dependencies around {escape(focus)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>",
    ]
    parts += [_edge(boxes[e.source], boxes[e.target]) for e in edges]
    parts += [_box(box, box.name == focus) for box in boxes.values()]
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(source: Box, target: Box) -> str:
    x1, y1 = source.x + BOX_W, source.y + BOX_H // 2
    x2, y2 = target.x, target.y + BOX_H // 2
    mid = (x1 + x2) // 2
    return (
        f'<path class="edge" d="M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}" '
        'marker-end="url(#arrow)"/>'
    )


def _box(box: Box, focused: bool) -> str:
    label = box.name if len(box.name) <= 18 else box.name[:17] + "…"
    css = "node focus" if focused else "node"
    name = escape(box.name)
    return (
        f'<a href="/catalog/{name}" class="{css}"><title>{name}</title>'
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
        f'<text x="{box.x + BOX_W // 2}" y="{box.y + BOX_H // 2 + 5}" '
        f'text-anchor="middle">{escape(label)}</text></a>'
    )
