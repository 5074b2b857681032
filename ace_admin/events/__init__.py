"""The events wing: what happened to messages after they were sent.

- ``ingest``: the one writer of events and their daily counters (bulk path), with the consequences
- ``consequences``: hard bounces and complaints suppress, repeated soft bounces suppress for a while,
  a provider's unsubscribe records an opt-out
- ``providers``: events from email services through django-anymail's ``tracking`` signal
- ``verp`` and ``bounces``: plain SMTP: a per-message envelope sender, DSN (RFC 3464) and ARF (RFC 5965) reports
- ``tracking``, ``machines``, ``buffer``: ACE's own open pixel and click redirects, machine opens/clicks flagged
- ``views``, ``urls``: the public endpoints; ``admin``: events and their evidence in the admin
"""
