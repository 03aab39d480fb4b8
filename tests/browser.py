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
