"""Errors meant for the user: one line, no traceback."""


class AlchemistError(Exception):
    """A problem the user can fix (bad file, unknown name, wrong flag). Printed as one line."""


class DatasetError(AlchemistError):
    """A dataset file is missing, corrupt or inconsistent."""


class ProgramError(AlchemistError):
    """A labeling-program folder cannot be used."""
