"""`python -m bot` is the `parkbot` command."""

from bot.cli import main

raise SystemExit(main())
