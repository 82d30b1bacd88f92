"""`python -m warroom` runs the command-line interface."""

from warroom.cli import main

main()
