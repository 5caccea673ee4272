"""Errors meant for the user: one line, no traceback."""


class AlchemistError(Exception):
    """A problem the user can fix (bad file, unknown name, wrong flag). Printed as one line."""


class DatasetError(AlchemistError):
    """A dataset file is missing, corrupt or inconsistent."""


class ProgramError(AlchemistError):
    """A labeling-program folder cannot be used."""


def run_command(command) -> int:
    """Run a command-line entry point: user errors become one line and exit status 2, Ctrl-C 130,
    Ctrl-D 0 — never a traceback for something the user can fix."""
    import sys

    from alchemist.core.safe_text import clean

    try:
        return command()
    except AlchemistError as e:
        print(f"error: {clean(e, 2000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted — anything already written is kept, with a manifest that says so", file=sys.stderr)
        return 130
    except EOFError:
        print("\nBye.", file=sys.stderr)
        return 0
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
