"""The browser tests skip, naming what to install, when Chromium or its driver is missing (not error)."""

from tests.browser import browser_missing


def test_a_missing_chromedriver_is_named(tmp_path):
    chromium, chromedriver = tmp_path / "chromium", tmp_path / "chromedriver"
    chromium.touch()
    reason = browser_missing({chromium: "chromium", chromedriver: "chromium-driver"})
    assert reason == f"{chromedriver} not installed (apt-get install chromium-driver)"


def test_both_missing_are_named(tmp_path):
    reason = browser_missing({tmp_path / "chromium": "chromium", tmp_path / "chromedriver": "chromium-driver"})
    assert reason.endswith("not installed (apt-get install chromium chromium-driver)")


def test_nothing_missing(tmp_path):
    (tmp_path / "chromium").touch()
    (tmp_path / "chromedriver").touch()
    assert browser_missing({tmp_path / "chromium": "chromium", tmp_path / "chromedriver": "chromium-driver"}) is None
