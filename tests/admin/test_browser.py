"""The admin in a real browser at 1440 px, on the demo's data: every list and change page an engineer works in fits
the screen (the page never scrolls sideways, and a list's table fits its area), and the pages are saved as
screenshots into $SOPGATE_ARTIFACTS for CI to keep."""

import pytest

from tests.browser import chromium, console_problems, requires_browser, screenshots

pytestmark = [pytest.mark.browser, requires_browser]

# The lists of the engineers' daily work, with the model whose first row's change page is opened as well.
PAGES = [
    ("parts", "part"),
    ("parts", "supplier"),
    ("parts", "supplierupdate"),
    ("validation", "validationtest"),
    ("validation", "handoverchecklist"),
    ("validation", "handoveritem"),
    ("sopgate", "program"),
    ("sopgate", "blocker"),
]


@pytest.fixture
def logged_in(live_server, transactional_db):
    from django.core.cache import cache
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from sopgate.demo.load import DEMO_PASSWORD, load_demo
    from sopgate.services import program_scan

    cache.clear()  # no login lock-out left over from other tests in this process
    program = load_demo().program
    _supplier_updates(program)
    program_scan(program_id=program.pk)
    driver = chromium(width=1440)
    driver.get(f"{live_server.url}/admin/login/?next=/admin/")
    driver.find_element(By.NAME, "username").send_keys("engineer")
    driver.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda b: b.current_url == f"{live_server.url}/admin/")
    yield driver, live_server.url
    driver.quit()


def _supplier_updates(program):
    """The demo has no update log: three updates from a supplier's user, with a note each."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from parts.models import SupplierUpdate

    reporter = get_user_model().objects.get(username="supplier")
    for n, part in enumerate(program.parts.filter(supplier__isnull=False).order_by("part_number")[:3]):
        SupplierUpdate.objects.create(
            part=part,
            supplier=part.supplier,
            reported_by=reporter,
            reported_by_username=reporter.username,
            reported_at=timezone.now() - timedelta(days=n),
            promised_date=part.promised_date,
            capacity_per_week=5000,
            note="Tooling on plan; second shift from next month.",
        )


def _table_overflow(driver) -> int:
    """How far the list's table is wider than the area it is shown in (Django scrolls it inside that area)."""
    return driver.execute_script(
        "const t = document.getElementById('result_list');"
        "return t ? t.getBoundingClientRect().width - t.parentElement.clientWidth : 0;"
    )


@pytest.mark.parametrize("app,model", PAGES)
def test_admin_list_and_change_page_fit_1440(logged_in, app, model):
    from selenium.webdriver.common.by import By

    driver, url = logged_in
    driver.get(f"{url}/admin/{app}/{model}/")
    assert driver.find_elements(By.ID, "result_list"), f"{model} list is empty or refused"
    assert _table_overflow(driver) <= 0, (
        f"the {model} list's table is wider than its area by {_table_overflow(driver)} px"
    )
    screenshots(driver, f"admin-{model}-list", widths=(1440,))
    driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr th a, #result_list tbody tr td a").click()
    assert driver.current_url.endswith("/change/")
    inline_overflow = driver.execute_script(
        "return Math.max(0, ...[...document.querySelectorAll('.inline-group table')].map("
        "t => t.getBoundingClientRect().width - t.parentElement.clientWidth));"
    )
    assert inline_overflow <= 0, f"an inline table of the {model} page is wider than its area by {inline_overflow} px"
    screenshots(driver, f"admin-{model}-change", widths=(1440,))
    driver.get_log("browser")


def test_admin_pages_log_no_console_problems(logged_in):
    driver, url = logged_in
    driver.get(f"{url}/admin/parts/part/")
    assert console_problems(driver) == []
