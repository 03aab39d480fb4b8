"""Trust in the admin, in a real browser (Debian's headless Chromium, the live server): an engineer who owns nothing
cannot sign a checklist off or waive a test, and the page says who may; the owner can. Screenshots at 1440 and
390 px go to $SOPGATE_ARTIFACTS."""

import pytest
from django.core.cache import cache

from tests.browser import chromium, console_problems, requires_browser, screenshots

pytestmark = [pytest.mark.browser, requires_browser]
PASSWORD = "Admin-pw-for-browser-tests"


@pytest.fixture
def handover(transactional_db):
    from django.contrib.auth.models import Group

    from tests.factories import ChecklistFactory, EngineerFactory, ItemFactory, ValidationTestFactory
    from validation.services import item_mark_done

    group = Group.objects.get_or_create(name="engineers")[0]
    people = {}
    for username in ("engineer", "li.wei"):
        people[username] = EngineerFactory(username=username, password=PASSWORD)
        people[username].groups.add(group)
        people[username].is_superuser = True  # the admin pages; the trust rules do not look at it
        people[username].save()
    checklist = ChecklistFactory(area="General assembly", rd_owner=people["li.wei"])
    item = ItemFactory(checklist=checklist, title="Torque audit", responsible=people["li.wei"])
    item_mark_done(item=item, actor=people["li.wei"])
    test = ValidationTestFactory(code="PV-CRASH-01", owner=people["li.wei"])
    return checklist, test


def _login(browser, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{base}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.ID, "user-tools")  # logged in: waits (implicitly) for the admin's index


def _sign_off_rd(browser, base: str, checklist) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{base}/admin/validation/handoverchecklist/")
    browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{checklist.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("sign_off_rd")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    return browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text  # waits for the page after the action


def test_only_the_owner_signs_off_and_only_a_launch_manager_waives(live_server, handover):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    checklist, test = handover
    cache.clear()  # no login lock-out left over from other tests in this process
    browser = chromium()
    try:
        _login(browser, live_server.url, "engineer")
        refused = _sign_off_rd(browser, live_server.url, checklist)
        assert "Only li.wei may sign off the R&D side of General assembly" in refused
        screenshots(browser, "admin-signoff-refused")
        checklist.refresh_from_db()
        assert checklist.rd_signed_off_at is None

        browser.get(f"{live_server.url}/admin/validation/validationtest/{test.pk}/change/")
        Select(browser.find_element(By.NAME, "status")).select_by_value("waived")
        browser.find_element(By.NAME, "waiver_reason").send_keys("Carry-over from SU6")
        browser.find_element(By.NAME, "_save").click()
        assert "Only a launch manager" in browser.find_element(By.CSS_SELECTOR, ".errorlist").text
        screenshots(browser, "admin-waiver-refused")
        test.refresh_from_db()
        assert test.status == "in_progress"

        _login(browser, live_server.url, "li.wei")
        assert "1 checklist signed off." in _sign_off_rd(browser, live_server.url, checklist)
        checklist.refresh_from_db()
        assert checklist.rd_signed_off_by.username == "li.wei"
        assert console_problems(browser) == []
    finally:
        browser.quit()
