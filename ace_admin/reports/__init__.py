"""Reports marketing staff read: per campaign run and per message type (funnel, per day, per link, per language),
and the dashboard on the admin's landing page. Figures come from the events wing's daily counters and the
delivery log (``queries``), charts are server-side SVG (``charts``), every table exports as CSV (``tables``)."""
