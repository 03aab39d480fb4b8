import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed smoke test shows the production processes' logs (the set-up prints them when it fails itself)."""
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("smoke_stack")
    if report.failed and stack is not None:
        report.sections.append(("SOPGate processes (production virtualenv)", stack.logs()))
