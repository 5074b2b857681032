"""Charts drawn on the server as SVG: no script at all (the admin's CSP forbids inline script, and a chart needs
none), readable by screen readers (``role="img"`` with a ``<title>`` and ``<desc>``, a ``<title>`` on every bar
and point), and always shown next to a table holding the same figures.

Colours are presentation attributes, not ``style``: nothing here depends on the policy's style rules.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

#: Series name -> (label, colour). Colours from the Okabe-Ito palette (distinguishable with colour blindness).
COLOURS = {
    "sent": ("sent", "#0072B2"), "delivered": ("delivered", "#009E73"), "opened": ("opened (people)", "#E69F00"),
    "clicked": ("clicked (people)", "#CC79A7"), "bounced": ("bounced (hard)", "#D55E00"),
    "complained": ("complained", "#000000"), "unsubscribed": ("unsubscribed", "#56B4E9"),
}


def _number(value) -> str:
    return f"{value:,}"


def _svg(chart_id: str, title: str, description: str, width: int, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="ace-chart" role="img" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=width, h=height, id=chart_id, title=title, desc=description, body=body)


def funnel_chart(chart_id: str, title: str, funnel: dict,
                 steps=("sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")):
    """Horizontal bars, one per step of ``funnel`` (a :func:`ace_admin.reports.queries.funnel` dict)."""
    label_width, bar_width, row, width = 150, 380, 26, 640
    largest = max([funnel.get(step) or 0 for step in steps] + [1])
    bars = []
    for n, step in enumerate(steps):
        label, colour = COLOURS[step]
        value = funnel.get(step) or 0
        y = 6 + n * row
        bars.append(format_html(
            '<g><title>{label}: {value}</title>'
            '<text x="{lx}" y="{ty}" text-anchor="end" font-size="13" fill="currentColor">{label}</text>'
            '<rect x="{x}" y="{y}" width="{bw}" height="18" fill="{colour}"></rect>'
            '<text x="{vx}" y="{ty}" font-size="13" fill="currentColor">{value}</text></g>',
            label=label, value=_number(value), lx=label_width - 8, ty=y + 14, x=label_width, y=y,
            bw=max(1, round(bar_width * value / largest)) if value else 0, colour=colour,
            vx=label_width + max(1, round(bar_width * value / largest)) + 6))
    description = "; ".join(f"{COLOURS[step][0]}: {_number(funnel.get(step) or 0)}" for step in steps)
    return _svg(chart_id, title, description, width, 12 + len(steps) * row, mark_safe("".join(bars)))


def series_chart(chart_id: str, title: str, series: list[dict],
                 keys=("sent", "delivered", "opened", "clicked", "bounced", "complained")):
    """One line per key over the days of ``series`` (rows with a ``day`` and the keys), with a legend."""
    width, height, left, right, top, bottom = 640, 260, 56, 12, 12, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max([row.get(key) or 0 for row in series for key in keys] + [1])
    step = plot_w / max(len(series) - 1, 1)

    def x(n):
        return round(left + (n * step if len(series) > 1 else plot_w / 2), 1)

    def y(value):
        return round(top + plot_h - plot_h * (value or 0) / largest, 1)

    parts = [format_html('<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#999999"></line>'
                         '<text x="{tx}" y="{ty}" text-anchor="end" font-size="11" fill="currentColor">{v}</text>',
                         l=left, r=width - right, b=y(largest * k / 4), tx=left - 4, ty=y(largest * k / 4) + 4,
                         v=_number(round(largest * k / 4)))
             for k in range(5)]
    every = max(1, len(series) // 8)
    parts += [format_html('<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="currentColor">{d}</text>',
                          x=x(n), y=height - bottom + 16, d=row["day"].strftime("%m-%d"))
              for n, row in enumerate(series) if n % every == 0]
    for k, key in enumerate(keys):
        label, colour = COLOURS[key]
        points = " ".join(f"{x(n)},{y(row.get(key))}" for n, row in enumerate(series))
        parts.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline>',
                                 points, colour))
        parts.append(format_html_join("", '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} {}</title></circle>',
                                      ((x(n), y(row.get(key)), colour, row["day"].isoformat(),
                                        _number(row.get(key) or 0), label) for n, row in enumerate(series))))
        lx = left + (k % 4) * 145
        ly = height - 22 + (k // 4) * 16
        parts.append(format_html('<rect x="{}" y="{}" width="10" height="10" fill="{}"></rect>'
                                 '<text x="{}" y="{}" font-size="12" fill="currentColor">{}</text>',
                                 lx, ly - 9, colour, lx + 14, ly, label))
    days = f"{series[0]['day']:%Y-%m-%d} to {series[-1]['day']:%Y-%m-%d}" if series else "no days"
    description = f"Per day (UTC), {days}: " + ", ".join(COLOURS[key][0] for key in keys) + ". The table beside " \
                  "the chart holds the same figures."
    return _svg(chart_id, title, description, width, height, mark_safe("".join(parts)))
