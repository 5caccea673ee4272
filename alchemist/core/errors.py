"""Errors meant for the user: one line, no traceback."""


class AlchemistError(Exception):
    """A problem the user can fix (bad file, unknown name, wrong flag). Printed as one line."""


class DatasetError(AlchemistError):
    """A dataset file is missing, corrupt or inconsistent."""


class ProgramError(AlchemistError):
    """A labeling-program folder cannot be used."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a timeout, Kubernetes, SLURM): handled exactly as Ctrl-C, so the run's report and manifest
    say `interrupted` and what was made is kept."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def run_command(command) -> int:
    """Run a command-line entry point: user errors become one line and exit status 2, Ctrl-C 130, SIGTERM
    143 (after the same clean-up as Ctrl-C), Ctrl-D 0 — never a traceback for something the user can fix."""
    import signal
    import sys
    import threading

    from alchemist.core.safe_text import clean

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return command()
    except AlchemistError as e:
        print(f"error: {clean(e, 2000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        what = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
        print(f"\n{what} — anything already written is kept, with a manifest that says so", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except EOFError:
        print("\nBye.", file=sys.stderr)
        return 0
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
