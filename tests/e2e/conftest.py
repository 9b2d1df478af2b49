"""Configuration for the end-to-end tests (real TensorFlow, real subprocesses).

Registers the ``e2e`` marker. The measured BatchNormalization / dropout figures
that tests append to ``e2e_results`` are printed as a table at the end of the
run, whether or not ``-s`` is given, so a reader of the CI log sees the effect
of the fixes (tests/conftest.py prints it: that file is loaded also in the
process that reports a parallel run).
"""

import pytest

# The scripts are programs run in subprocesses, never test modules.
collect_ignore_glob = ["scripts/*"]

E2E_ROW = "trainfix-e2e-row"  # tests/conftest.py collects these user properties into the summary


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "e2e: end-to-end tests that run real TensorFlow/Keras training scripts before and after `trainfix apply`",
    )


class _Rows:
    """Rows travel as the test report's user properties, so they reach the process that prints the
    summary also when pytest-xdist runs the test in a worker."""

    def __init__(self, node):
        self._node = node

    def append(self, row: str) -> None:
        self._node.user_properties.append((E2E_ROW, row))


@pytest.fixture
def e2e_results(request):
    """Rows appended here are printed in a table at the end of the run."""
    return _Rows(request.node)
