"""A supplier in a real browser (Debian's headless Chromium, Selenium, the live server), in English and in Chinese:
login, the part list, one update, the capacity plan and run at rate, the spreadsheet round trip and a file upload,
with screenshots at 1440 px and 390 px saved into $SOPGATE_ARTIFACTS (CI keeps them)."""

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import chromium, console_problems, requires_browser, screenshots

pytestmark = [pytest.mark.browser, requires_browser]
PASSWORD = "Portal-pw-for-browser-tests"
WIDTHS = (1440, 390)
TEXTS = {
    "en": {"accept": "en-US,en", "parts": "Your parts", "stored": "Your update of BM-100 is stored.",
           "sheet": "1 part updated from the spreadsheet.", "kept": "warrant.pdf is kept with BM-100."},
    "zh-hans": {"accept": "zh-CN,zh", "parts": "您的零件", "stored": "您对 BM-100 的更新已保存。",
                "sheet": "已根据电子表格更新 1 个零件。", "kept": "warrant.pdf 已保存到 BM-100。"},
}  # fmt: skip


@pytest.fixture
def downloads():
    folder = tempfile.TemporaryDirectory(prefix="sopgate-downloads-")
    yield Path(folder.name)
    folder.cleanup()


def _browser(language: str, downloads: Path):
    return chromium(accept_language=TEXTS[language]["accept"], downloads=downloads)


@pytest.fixture
def supplier_world(transactional_db):
    from django.contrib.auth import get_user_model

    from parts.choices import PPAPStatus
    from parts.models import SupplierUser
    from sopgate.models import Blocker
    from tests.factories import EngineerFactory, PartFactory, ProgramFactory, RampStepFactory, SupplierFactory

    today = timezone.localdate()
    engineer = EngineerFactory(username="eng")
    program = ProgramFactory(code="SU7", name="SU7 sedan", owner=engineer, sop_date=today + timedelta(days=75))
    first = date(program.sop_date.year, program.sop_date.month, 1)
    for months, vehicles in ((0, 2000), (2, 6000), (4, 10000)):
        month = date(first.year + (first.month - 1 + months) // 12, (first.month - 1 + months) % 12 + 1, 1)
        RampStepFactory(program=program, month=month, planned_vehicles=vehicles)
    acme = SupplierFactory(code="ACME", name="Acme Battery Co.")
    other = SupplierFactory(code="BOLT", name="Bolt Seating")
    alice = get_user_model().objects.create_user("alice", "alice@acme.example", PASSWORD)
    SupplierUser.objects.create(user=alice, supplier=acme)
    common = {"program": program, "owner": engineer, "supplier": acme}
    blocked = PartFactory(
        **common, part_number="BM-100", name="Battery module 72 Ah", qty_per_vehicle=4, capacity_per_week=1000,
        ppap_status=PPAPStatus.NOT_SUBMITTED, need_date=today + timedelta(days=40),
    )  # fmt: skip
    PartFactory(
        **common, part_number="LT-200", name="Door latch", need_date=today - timedelta(days=2), promised_date=None
    )
    PartFactory(**common, part_number="HC-300", name="HV harness", need_date=today + timedelta(days=30))
    PartFactory(program=program, owner=engineer, supplier=other, part_number="SF-900", name="Seat frame")
    now = timezone.now()
    Blocker.objects.create(
        program=program, rule="capacity_shortfall", severity="blocking", object_type="part", object_id=blocked.pk,
        object_label=str(blocked), supplier=acme, opened_at=now, last_seen_at=now, clear_by=today + timedelta(days=20),
        message="Battery module 72 Ah BM-100 rev A: capacity 1,000/week below peak demand 9,033/week",
    )  # fmt: skip
    return blocked


def _shots(browser, name: str) -> None:
    """The page at 1440 px and 390 px wide into $SOPGATE_ARTIFACTS; no sideways scrolling at 390."""
    browser.execute_script("window.scrollTo(0, 0)")  # from the top, also after a redirect to an anchor
    screenshots(browser, f"portal-{name}", WIDTHS)


def _wait_for(predicate, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _set_date(browser, field_id: str, day: date) -> None:
    # A date input types by the browser's locale (month first in English, year first in Chinese): set its value.
    from selenium.webdriver.common.by import By

    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field_id), day.isoformat())


def _add_line(browser, day: date | None, capacity: str) -> None:
    from selenium.webdriver.common.by import By

    if day is not None:
        _set_date(browser, "id_plan-effective_from", day)
    browser.find_element(By.ID, "id_plan-capacity_per_week").send_keys(capacity)
    browser.find_element(By.CSS_SELECTOR, "#capacity form.pt-panel button[type=submit]").click()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_supplier_walks_through_the_portal(live_server, supplier_world, downloads, language):
    from django.core.cache import cache
    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from parts.models import CapacityLine, EvidenceFile, Part, SupplierUpdate

    cache.clear()  # no login lock-out left over from other tests in this process
    texts = TEXTS[language]
    slug = "zh" if language == "zh-hans" else language
    browser = _browser(language, downloads)
    try:
        # Login: the keyboard alone (Tab from the username to the password, Enter submits).
        browser.get(f"{live_server.url}/supplier/")
        assert browser.current_url.startswith(f"{live_server.url}/supplier/login/")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
        _shots(browser, f"{slug}-login")
        username = browser.find_element(By.NAME, "username")
        username.send_keys("alice", Keys.TAB)
        browser.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
        _wait_for(lambda: browser.current_url == f"{live_server.url}/supplier/", "the part list")

        # The part list: blocked first, then late, then the rest; nothing of another supplier's.
        assert browser.find_element(By.TAG_NAME, "h1").text == texts["parts"]
        numbers = [link.text.split()[0] for link in browser.find_elements(By.CSS_SELECTOR, ".pt-parts tbody th a")]
        assert numbers == ["BM-100", "LT-200", "HC-300"]
        assert "SF-900" not in browser.page_source
        assert "capacity 1,000/week below peak demand" in browser.page_source
        _shots(browser, f"{slug}-parts")
        skip = browser.find_element(By.CSS_SELECTOR, "a.pt-skip")
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert browser.switch_to.active_element == skip  # the skip link is the first stop
        skip.send_keys(Keys.ENTER)
        assert browser.switch_to.active_element == browser.find_element(By.ID, "main")

        # One update through the part's form.
        browser.find_element(By.CSS_SELECTOR, ".pt-parts tbody th a").click()
        capacity = browser.find_element(By.ID, "id_capacity_per_week")
        capacity.clear()
        capacity.send_keys("9500")
        Select(browser.find_element(By.ID, "id_ppap_status")).select_by_value("submitted")
        browser.find_element(By.ID, "id_note").send_keys("Second line running from next week")
        browser.find_element(By.CSS_SELECTOR, "#report-h ~ form button[type=submit]").click()
        _wait_for(lambda: texts["stored"] in browser.page_source, "the update stored")
        part = Part.objects.get(pk=supplier_world.pk)
        assert (part.capacity_per_week, part.ppap_status) == (9500, "submitted")

        # The capacity plan: a line from today (the form's default day), then one from a later day; the run at rate.
        today = timezone.localdate()
        _add_line(browser, None, "9500")
        _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".pt-line-in_force"), "the line in force")
        later = today + timedelta(days=30)
        _add_line(browser, later, "12000")
        _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".pt-line-future"), "the future line")
        lines = CapacityLine.objects.filter(part=supplier_world).values_list("effective_from", "capacity_per_week")
        assert list(lines) == [(today, 9500), (later, 12000)]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#capacity form.pt-inline button")) == 1  # delete the later
        _set_date(browser, "id_rate-run_at_rate_on", today - timedelta(days=3))
        browser.find_element(By.ID, "id_rate-run_at_rate_per_week").send_keys("9800")
        browser.find_element(By.CSS_SELECTOR, "#run-at-rate form button[type=submit]").click()
        _wait_for(lambda: Part.objects.get(pk=supplier_world.pk).run_at_rate_per_week == 9800, "the run at rate")
        _wait_for(lambda: browser.current_url.endswith("#run-at-rate"), "the page again")
        assert "9,800" in browser.find_element(By.ID, "rate-now").text
        _shots(browser, f"{slug}-part")

        # An evidence file.
        warrant = downloads / "warrant.pdf"
        warrant.write_bytes(b"%PDF-1.7 part submission warrant")
        Select(browser.find_element(By.ID, "id_kind")).select_by_value("ppap_warrant")
        browser.find_element(By.ID, "id_file").send_keys(str(warrant))
        browser.find_element(By.CSS_SELECTOR, "#files form button[type=submit]").click()
        _wait_for(lambda: texts["kept"] in browser.page_source, "the file kept")
        assert EvidenceFile.objects.get().name == "warrant.pdf"
        assert browser.find_element(By.LINK_TEXT, "warrant.pdf").is_displayed()

        # The spreadsheet round trip: download, change one row, upload, preview, confirm.
        browser.get(f"{live_server.url}/supplier/")
        browser.find_element(By.CSS_SELECTOR, "a[href='/supplier/parts.xlsx']").click()
        sheet_file = _wait_for(lambda: next(iter(downloads.glob("ACME-parts-*.xlsx")), None), "the download")
        _wait_for(lambda: sheet_file.stat().st_size > 0 and not list(downloads.glob("*.crdownload")), "the whole file")
        book = load_workbook(sheet_file)
        sheet = book.worksheets[0]
        row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 3).value == "HC-300")
        sheet.cell(row, 11).value = 4800
        edited = downloads / "edited.xlsx"
        book.save(edited)
        browser.get(f"{live_server.url}/supplier/upload/")
        browser.find_element(By.ID, "id_file").send_keys(str(edited))
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        _wait_for(lambda: browser.find_elements(By.ID, "sheet-summary"), "the preview")
        assert "HC-300" in browser.find_element(By.CSS_SELECTOR, ".pt-preview").text
        assert SupplierUpdate.objects.count() == 2  # the report and the run at rate: the preview stored nothing
        _shots(browser, f"{slug}-preview")
        browser.find_element(By.CSS_SELECTOR, "form[action='/supplier/upload/confirm/'] button").click()
        _wait_for(lambda: texts["sheet"] in browser.page_source, "the spreadsheet applied")
        assert Part.objects.get(part_number="HC-300").capacity_per_week == 4800

        assert console_problems(browser) == []
    finally:
        browser.quit()
