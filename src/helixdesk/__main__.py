"""`python -m helixdesk` runs the CLI."""

from helixdesk.cli import main

if __name__ == "__main__":
    main()
