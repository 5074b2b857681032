"""An editor's message type page in a real browser: the sender, reply-to, transactional flag and seed addresses are
shown read-only (no input to type in), while the content fields stay editable and the page saves."""

from __future__ import annotations

from ace_admin.groups import EDITORS, MANAGERS
from tests.e2e.conftest import STAFF_PASSWORD, browser, live_url, login, page  # noqa: F401
from tests.factories import MessageTypeFactory, StaffFactory

SENDING = ["transactional", "from_address", "reply_to", "seed_addresses"]


def _staff(django_user_model, group: str, username: str):
    # StaffFactory re-creates the role groups when a transactional test flushed what the migration made.
    return StaffFactory(username=username, password=STAFF_PASSWORD, role=group)


def test_editor_sees_the_sender_fields_read_only(page, live_url, transactional_db, django_user_model,  # noqa: F811
                                                 screenshot_dir):
    message_type = MessageTypeFactory(
        app_label="tests", name="greeting", category="news", from_address="News <news@example.org>",
        reply_to="help@example.org", seed_addresses="qa@example.org")
    _staff(django_user_model, EDITORS, "eddie")
    login(page, live_url, "eddie")
    page.goto(live_url(f"/admin/ace_admin/messagetype/{message_type.pk}/change/"))
    for name in SENDING:
        assert page.locator(f"[name={name}]").count() == 0, name
        assert page.locator(f".field-{name} .readonly").count() == 1, name
    assert page.locator(".field-from_address .readonly").inner_text() == "News <news@example.org>"
    page.screenshot(path=str(screenshot_dir / "roles-editor-message-type.png"), full_page=True)

    page.fill("[name=description]", "Weekly news")
    page.click("input[name=_continue]")
    page.locator("ul.messagelist li.success").wait_for()
    message_type.refresh_from_db()
    assert message_type.description == "Weekly news"
    assert (message_type.from_address, message_type.transactional) == ("News <news@example.org>", False)
    assert page.log.errors == []


def test_manager_gets_inputs_for_the_sender_fields(page, live_url, transactional_db, django_user_model):  # noqa: F811
    message_type = MessageTypeFactory(app_label="tests", name="greeting")
    _staff(django_user_model, MANAGERS, "maria")
    login(page, live_url, "maria")
    page.goto(live_url(f"/admin/ace_admin/messagetype/{message_type.pk}/change/"))
    for name in SENDING:
        assert page.locator(f"[name={name}]").count() == 1, name
