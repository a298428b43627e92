"""`python -m helixdesk` runs the CLI."""

from helixdesk.cli import main

main()
