"""Configuration for the end-to-end tests (real TensorFlow, real subprocesses).

Registers the ``e2e`` marker and prints the measured BatchNormalization /
dropout figures as a table at the end of the run, whether or not ``-s`` is
given, so a reader of the CI log sees the effect of the fixes.
"""

import pytest

# The scripts are programs run in subprocesses, never test modules.
collect_ignore_glob = ["scripts/*"]

_RESULTS = pytest.StashKey[list]()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "e2e: end-to-end tests that run real TensorFlow/Keras training scripts before and after `trainfix apply`",
    )
    config.stash[_RESULTS] = []


@pytest.fixture
def e2e_results(request):
    """A list shared by the whole run; rows appended here are printed at the end."""
    return request.config.stash[_RESULTS]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = config.stash.get(_RESULTS, [])
    if not rows:
        return
    terminalreporter.section("trainfix e2e: measured statistics")
    for row in rows:
        terminalreporter.write_line(row)
