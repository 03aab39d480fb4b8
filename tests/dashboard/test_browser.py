"""The dashboard in a real browser: Debian's headless Chromium driven by Selenium against the live server."""

import os
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import chromium, console_problems, requires_browser, screenshots

pytestmark = [pytest.mark.browser, requires_browser]


@pytest.fixture
def browser():
    driver = chromium(width=1400)
    yield driver
    driver.quit()


def _load_demo_with_history():
    """The SU7 demo as it looked three weeks, two weeks, one week ago and today, snapshotted each time,
    so the trend chart has real points."""
    from sopgate.demo.load import load_demo
    from sopgate.services import program_scan, program_snapshot

    today = timezone.localdate()
    for weeks_ago in (3, 2, 1, 0):
        day = today - timedelta(weeks=weeks_ago)
        program = load_demo(today=day).program
        program_scan(program_id=program.pk, today=day, now=timezone.make_aware(datetime.combine(day, time(9))))
        program_snapshot(program_id=program.pk, today=day)
    return program


def test_engineer_sees_the_gate_charts_and_follows_a_blocker_to_the_admin(live_server, transactional_db, browser):
    from django.core.cache import cache
    from selenium.webdriver.common.by import By

    from sopgate.demo.load import DEMO_PASSWORD
    from sopgate.selectors import program_readiness

    cache.clear()  # no login lock-out left over from other tests in this process
    program = _load_demo_with_history()
    readiness = program_readiness(program)

    browser.get(f"{live_server.url}/admin/login/?next=/programs/SU7/")
    browser.find_element(By.NAME, "username").send_keys("engineer")
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    # The click returns when the form is submitted, not when the redirect has landed: wait for it.
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(lambda b: b.current_url == f"{live_server.url}/programs/SU7/")
    assert browser.current_url == f"{live_server.url}/programs/SU7/"
    browser.get_log("browser")  # drop what the admin login page logged (its /favicon.ico is not ours)
    browser.refresh()
    sentence = browser.find_element(By.ID, "decision-sentence").text
    assert sentence == readiness.decision_sentence
    assert "cannot start production" in sentence
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.sg-chart, svg.wc-svg")
    assert len(charts) == 6
    assert all(chart.size["width"] > 200 and chart.size["height"] > 50 for chart in charts)
    trend_points = browser.find_elements(By.CSS_SELECTOR, "#chart-trend .sg-mark")
    assert len(trend_points) == 4
    # The stylesheet and script came from the app itself and ran under the page's strict policy.
    assert browser.find_element(By.CSS_SELECTOR, ".sg-top").value_of_css_property("background-color") == (
        "rgba(20, 33, 61, 1)"
    )
    assert browser.find_element(By.CSS_SELECTOR, "[data-sg-print]").is_displayed()
    assert console_problems(browser) == []

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(height + 40, 12000))
    artifacts = Path(os.environ.get("SOPGATE_ARTIFACTS", "artifacts/"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "dashboard.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    browser.set_window_size(1400, 1000)

    # A part's blocker: a part's label is its admin title (a handover item's blocker label adds its area).
    link = browser.find_element(By.CSS_SELECTOR, "a.sg-blocker-link[href*='/parts/part/']")
    label = link.text
    link.click()
    assert "/admin/" in browser.current_url and browser.current_url.endswith("/change/")
    # The admin titles a change page "<object> | Change <model> | SOPGate admin".
    assert browser.title.startswith(f"{label} | Change ")
    assert browser.find_element(By.CSS_SELECTOR, "#content form").is_displayed()


def test_dashboard_fits_1440_and_the_program_page_fits_a_phone(live_server, transactional_db, browser):
    """No sideways scroll of the page: the program list at 1440 px, the program page at 1440 and 390 px."""
    from django.core.cache import cache
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from sopgate.demo.load import DEMO_PASSWORD

    cache.clear()
    _load_demo_with_history()
    browser.get(f"{live_server.url}/admin/login/?next=/")  # the program list is the dashboard's index
    browser.find_element(By.NAME, "username").send_keys("engineer")
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url == f"{live_server.url}/")
    assert "SU7" in browser.find_element(By.TAG_NAME, "main").text  # the list itself, not an error page
    screenshots(browser, "dashboard-index", widths=(1440,))
    browser.get(f"{live_server.url}/programs/SU7/")
    assert "SU7" in browser.title
    screenshots(browser, "dashboard-program", widths=(1440, 390))


def test_the_ramp_chart_shows_planned_against_achievable_week_by_week(live_server, transactional_db, browser):
    """The demo's ramp in a real browser: a bar per ISO week, the plan's step line over them, the Chinese New Year
    week below plan and called out, the week table under it; screenshots of the figure at 1440 and 390 px."""
    from django.core.cache import cache
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from sopgate.demo.load import DEMO_PASSWORD, load_demo
    from sopgate.gate.coverage import program_ramp

    cache.clear()
    program = load_demo(today=timezone.localdate()).program
    weeks = program_ramp(program).coverage()
    below = [
        w["week"]
        for w in weeks
        if w["achievable_vehicles"] is not None and w["achievable_vehicles"] < w["planned_vehicles"]
    ]
    assert below, "the demo's ramp should dip below plan somewhere, so the chart tells its story"

    browser.get(f"{live_server.url}/admin/login/?next=/programs/SU7/")
    browser.find_element(By.NAME, "username").send_keys("engineer")
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url == f"{live_server.url}/programs/SU7/")
    figure = browser.find_element(By.ID, "chart-ramp")
    svg = figure.find_element(By.CSS_SELECTOR, "svg.wc-svg")
    assert svg.size["width"] > 600 and svg.size["height"] > 200
    bars = svg.find_elements(By.CSS_SELECTOR, "g.wc-mark rect")
    assert len(bars) == sum(1 for w in weeks if w["achievable_vehicles"] is not None)
    assert len(svg.find_elements(By.CSS_SELECTOR, "g.wc-mark circle")) == len(weeks)
    titles = [t.get_attribute("textContent") for t in svg.find_elements(By.CSS_SELECTOR, "g.wc-mark > title")]
    first = next(w for w in weeks if w["week"] == below[0])
    assert any(t.startswith(f"{below[0]}: {first['achievable_vehicles']:,} vehicles achievable") for t in titles)
    assert f"first below plan: {below[0]}" in svg.find_element(By.CSS_SELECTOR, ".wc-callout-text").text
    # The bars below plan are drawn in the bad tone's pattern, the others in the good one's.
    fills = [bar.get_attribute("fill") for bar in bars]
    assert sum(fill.endswith("-bad)") for fill in fills) == len(below)
    rows = figure.find_elements(By.CSS_SELECTOR, "#ramp-weeks tbody tr")
    assert len(rows) == len(weeks)
    assert len(figure.find_elements(By.CSS_SELECTOR, "#ramp-weeks tr.sg-row-short")) == len(below)
    assert console_problems(browser) == []

    artifacts = Path(os.environ.get("SOPGATE_ARTIFACTS", "artifacts/"))
    artifacts.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        browser.set_window_size(width, 1200)
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the program page scrolls sideways by {overflow} px at {width} px"
        browser.execute_script("arguments[0].scrollIntoView()", figure)
        shot = artifacts / f"dashboard-ramp-{width}.png"
        assert figure.screenshot(str(shot)) and shot.stat().st_size > 10_000
