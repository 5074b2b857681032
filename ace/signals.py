"""Django signals sent by the ACE pipeline; receivers plug in logging, metrics and delivery logs.

- ``ACE_MESSAGE_SENT(sender=channel, message=dict)``: a channel delivered a message; as in edx-ace 1.15,
  ``message`` is a JSON-able dict (name, app_label, recipient, channel, context, options, uuid, send_uuid,
  message_language, translation_language: see :mod:`ace.utils.signals`).
- ``ACE_MESSAGE_OUTCOMES(sender=None, message=message, outcomes=[DeliveryOutcome, ...])``: once per
  ``ace.send``, with what became of the message on every channel type considered (sent, denied,
  failed, expired, template missing). Senders that wrote the outcomes to the delivery log themselves
  (campaign batches, which record each outcome as its channel answers) add ``logged=True``.
"""

from django.dispatch import Signal

ACE_MESSAGE_SENT = Signal()
ACE_MESSAGE_OUTCOMES = Signal()
