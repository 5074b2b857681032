"""The admin login works in a real browser: the smallest proof that the e2e fixtures hold together."""


def test_staff_logs_in_and_sees_the_ace_admin(admin_page, live_url):
    admin_page.goto(live_url("/admin/"))
    assert admin_page.locator("a[href='/admin/ace_admin/messagetype/']").count() >= 1
    assert admin_page.log.errors == []


def test_wrong_password_is_refused(page, live_url, staff_user):
    page.goto(live_url("/admin/login/"))
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    assert page.locator(".errornote").is_visible()
    assert page.url.startswith(live_url("/admin/login/"))
