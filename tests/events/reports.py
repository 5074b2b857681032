"""Realistic bounce and complaint messages, built like the mail systems that send them (Postfix, Gmail,
Outlook/Exchange Online, a Yahoo-style feedback loop)."""

from __future__ import annotations

from email.message import EmailMessage, Message


def _returned(original, headers_only: bool):
    """The returned message: the original, or only its headers (text/rfc822-headers)."""
    if headers_only:
        text = "".join(f"{name}: {value}\r\n" for name, value in original.items())
        part = EmailMessage()
        part.set_content(text)
        part.replace_header("Content-Type", "text/rfc822-headers")
        return part
    return original


def dsn(original, *, to: str, recipient: str, status: str, action: str = "failed", diagnostic: str = "",
        reporting_mta: str = "mail.example.net", sender: str = "MAILER-DAEMON@mail.example.net",
        human: str = "", headers_only: bool = False, message_id: str = "<dsn-1@mail.example.net>") -> bytes:
    report = EmailMessage()
    report["From"] = sender
    report["To"] = to
    report["Subject"] = "Undelivered Mail Returned to Sender" if action == "failed" else "Delivery delayed"
    report["Message-ID"] = message_id
    report["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    report.set_content(human or f"This is the mail system at host {reporting_mta}.\n\n"
                                f"I'm sorry to have to inform you that your message could not be delivered.\n")
    report.make_mixed()
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = f"dns; {reporting_mta}"
    per_message["Arrival-Date"] = "Tue, 01 Dec 2026 09:59:58 +0000"
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"], per_recipient["Status"] = action, status
    if diagnostic:
        per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    status_part = Message()
    status_part["Content-Type"] = "message/delivery-status"
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    returned = _returned(original, headers_only)
    if headers_only:
        report.attach(returned)
    else:
        wrapper = EmailMessage()
        wrapper.set_content(original)
        report.attach(wrapper)
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    return report.as_bytes()


def arf(original, *, to: str, recipient: str = "", message_id: str = "<arf-1@fbl.example.com>") -> bytes:
    report = EmailMessage()
    report["From"] = "feedback@fbl.example.com"
    report["To"] = to
    report["Subject"] = "FW: Complaint about message"
    report["Message-ID"] = message_id
    report["Date"] = "Tue, 01 Dec 2026 12:00:00 +0000"
    report.set_content("This is an email abuse report for an email message received from IP 192.0.2.1.\n")
    report.make_mixed()
    feedback = EmailMessage()
    feedback.set_payload("Feedback-Type: abuse\r\nUser-Agent: ExampleFBL/1.0\r\nVersion: 1\r\n"
                         "Arrival-Date: Tue, 01 Dec 2026 11:00:00 +0000\r\n"
                         + (f"Original-Rcpt-To: {recipient}\r\n" if recipient else ""))
    feedback["Content-Type"] = "message/feedback-report"
    report.attach(feedback)
    report.attach(_returned(original, headers_only=True))
    report.set_type("multipart/report")
    report.set_param("report-type", "feedback-report")
    return report.as_bytes()
