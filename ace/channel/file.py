"""Channels for local development that write each message to a file (or stdout) instead of sending it.

``ACE_CHANNEL_FILE_PATH`` is a directory (one ``.eml`` file per email, one ``.json`` file per push
notification) or ``"-"`` for standard output. As in edx-ace, a message whose ``output_file_path`` option
(``PATH_OVERRIDE_KEY``) names a file is written there instead, in edx-ace's format: an HTML page with the
recipient, from name, subject and text body in comments at its end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ace.channel import Channel, ChannelType
from ace.channel.mixins import EmailChannelMixin, html_document
from ace.settings import ace_settings
from ace.utils.date import get_current_time

#: The message option naming the file to write the email to (edx-ace's name).
PATH_OVERRIDE_KEY = "output_file_path"

def _edx_ace_page(message, rendered_message) -> str:
    parts = {name: (getattr(rendered_message, name, "") or "").strip()
             for name in ("from_name", "subject", "head_html", "body_html", "body")}
    comments = (f"<!-- to: {message.recipient.email_address} -->", f"<!-- from_name: {parts['from_name']} -->",
                f"<!-- subject: {parts['subject']} -->", f"<!-- body: {parts['body']} -->")
    page = html_document(parts["head_html"], parts["body_html"], indent="    ", after_body=comments)
    return f"\n{page}\n"


def _write(suffix: str, message, data: bytes) -> str:
    target = ace_settings.ACE_CHANNEL_FILE_PATH
    if target in (None, "", "-"):
        sys.stdout.write(data.decode("utf-8", "replace") + "\n" + "-" * 79 + "\n")
        sys.stdout.flush()
        return "-"
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{get_current_time():%Y%m%dT%H%M%S%f}-{message.uuid}{suffix}"
    path.write_bytes(data)
    return str(path)


class FileEmailChannel(EmailChannelMixin, Channel):
    """Writes each email, as the MIME message an SMTP server would receive, to a file or stdout."""

    def check_message(self, message) -> None:
        self.check_recipient_and_sender(message)

    def deliver(self, message, rendered_message):
        override = message.options.get(PATH_OVERRIDE_KEY)
        if override:
            path = Path(override)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_edx_ace_page(message, rendered_message), encoding="utf-8")
            return {"path": str(path)}
        email = self.build_email(message, rendered_message)
        return {"path": _write(".eml", message, email.message().as_bytes(linesep="\n"))}


class FilePushChannel(Channel):
    """Writes each push notification as JSON to a file or stdout."""

    channel_type = ChannelType.PUSH

    def deliver(self, message, rendered_message):
        payload = {
            "lms_user_id": message.recipient.lms_user_id if message.recipient else None,
            "message_uuid": str(message.uuid),
            "title": rendered_message.title,
            "body": rendered_message.body,
        }
        return {"path": _write(".json", message, json.dumps(payload, indent=2).encode())}
