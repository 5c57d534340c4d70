"""Small SVG charts drawn on the server (no JavaScript): bars and a line. Each
page shows the numbers as a table beside the chart; the SVG carries a title
and is hidden from screen readers, which read the table."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

W, H = 320, 150
PAD_L, PAD_B, PAD_T = 28, 22, 8
COLORS = ("#1f6f5c", "#c2571a", "#3b5ba5", "#8a3f8f", "#6b6b00", "#a33")


def _frame(title: str, inner: list[str], top: float) -> Markup:
    axis = [f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W}" y2="{H - PAD_B}" stroke="#999"/>',
            f'<text x="{PAD_L - 4}" y="{PAD_T + 8}" text-anchor="end" font-size="10">{_num(top)}</text>',
            f'<text x="{PAD_L - 4}" y="{H - PAD_B}" text-anchor="end" font-size="10">0</text>']
    return Markup(f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-hidden="true" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
                  + "".join(axis + inner) + "</svg>")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def bars(title: str, labels: list[str], values: list[float], top: float | None = None) -> Markup:
    top = top or max([*values, 1])
    n = max(len(values), 1)
    slot = (W - PAD_L) / n
    inner = []
    for i, (label, v) in enumerate(zip(labels, values)):
        h = (H - PAD_B - PAD_T) * (v / top if top else 0)
        x = PAD_L + i * slot + slot * 0.15
        inner.append(f'<rect x="{x:.1f}" y="{H - PAD_B - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                     f'fill="{COLORS[0]}"/>')
        inner.append(f'<text x="{x + slot * 0.35:.1f}" y="{H - 8}" text-anchor="middle" font-size="9">'
                     f'{escape(label)}</text>')
    return _frame(title, inner, top)


def lines(title: str, labels: list[str], series: dict[str, list[float | None]], top: float | None = None) -> Markup:
    flat = [v for vs in series.values() for v in vs if v is not None]
    top = top or max([*flat, 1])
    n = max(len(labels), 2)
    step = (W - PAD_L - 10) / (n - 1)
    inner = []
    for k, (name, values) in enumerate(series.items()):
        pts = [(PAD_L + 5 + i * step, H - PAD_B - (H - PAD_B - PAD_T) * (v / top))
               for i, v in enumerate(values) if v is not None]
        color = COLORS[k % len(COLORS)]
        if len(pts) > 1:
            inner.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                         + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        inner += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts]
    for i, label in enumerate(labels):
        if len(labels) <= 8 or i % 2 == 0:
            inner.append(f'<text x="{PAD_L + 5 + i * step:.1f}" y="{H - 8}" text-anchor="middle" font-size="9">'
                         f'{escape(label)}</text>')
    return _frame(title, inner, top)
