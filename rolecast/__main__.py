"""``python -m rolecast``."""

from rolecast.cli import main

main()
