# Makes tests/e2e a package, so its conftest.py is imported as ``e2e.conftest``
# and does not shadow tests/conftest.py (which tests/*.py import as ``conftest``).
