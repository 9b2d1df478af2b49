"""`python -m trainfix`: the same command as `trainfix` (used by the GitHub Action)."""
from .cli import main

main()
