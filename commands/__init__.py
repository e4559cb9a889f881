"""The command line's commands, one module per area; ``cli.py`` puts them together."""
