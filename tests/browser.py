"""Debian's headless Chromium and its driver, as the browser tests use them; one check of both for every skip."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEBIAN_PACKAGES = {CHROMIUM: "chromium", CHROMEDRIVER: "chromium-driver"}


def browser_missing(packages: dict[Path, str] = DEBIAN_PACKAGES) -> str | None:
    """Why the browser tests cannot run here (which programs are missing, how to install them), or None."""
    missing = [path for path in packages if not path.exists()]
    if not missing:
        return None
    names = " and ".join(str(path) for path in missing)
    return f"{names} not installed (apt-get install {' '.join(packages[path] for path in missing)})"


requires_browser = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")


def chromium(*, width: int = 1440, accept_language: str | None = None, downloads: Path | None = None):
    """Debian's headless Chromium under Selenium, in a profile of its own, with no network of its own (no driver
    download, no background connections). Returns the driver; `driver.quit()` also removes the profile."""
    import os
    import tempfile

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--window-size={width},1000"]  # fmt: skip
    if accept_language:
        flags.append(f"--lang={accept_language.split(',')[0]}")
    for flag in flags:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="sopgate-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    prefs = {}
    if accept_language:
        prefs["intl.accept_languages"] = accept_language
    if downloads:
        prefs.update({"download.default_directory": str(downloads), "download.prompt_for_download": False})
    if prefs:
        options.add_experimental_option("prefs", prefs)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    quit_driver = driver.quit

    def quit_and_clean():
        quit_driver()
        profile.cleanup()

    driver.quit = quit_and_clean
    return driver


def screenshots(driver, name: str, widths=(1440, 390)) -> list[Path]:
    """The page at each width, whole height, into $SOPGATE_ARTIFACTS (CI keeps them), checking that it does not
    scroll sideways at any of them."""
    import os

    artifacts = Path(os.environ.get("SOPGATE_ARTIFACTS", "artifacts/"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shots = []
    for width in widths:
        driver.set_window_size(width, 1000)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(height + 20, 8000))
        # The window's height includes what the browser itself takes: grow it until the whole page is in view.
        missing = driver.execute_script("return document.documentElement.scrollHeight - window.innerHeight")
        if missing > 0:
            driver.set_window_size(width, min(height + 20 + missing, 8000))
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        shot = artifacts / f"{name}-{width}.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        shots.append(shot)
    driver.set_window_size(widths[0], 1000)
    return shots


def console_problems(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
