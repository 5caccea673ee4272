"""Wire format between the parent and a program process. Constants only: imported by both sides.

Parent -> worker: 4-byte big-endian length + payload: first the config with the one program (JSON),
then one payload per chunk: CHUNK_HEAD (row count, separator code point) + the chunk's texts joined
by that separator, UTF-8 (the separator is a character no text of the chunk contains). EOF ends it.
With input kind "scores" (config `input`), each row's text is its floats joined by commas, in the
order of the config's names.
Worker -> parent: 1 kind byte + 4-byte big-endian length + payload. The parent treats every byte
as hostile: kinds, sizes and contents are checked, and a worker that breaks the format is killed.
"""

# Parent -> fork server: kind + big-endian int32, one datagram each.
FORK = b"F"  # (0) with two fds attached: the new process's input and result pipes
KILL = b"K"  # pid: SIGKILL its process group, if it is ours and not reaped yet
# Fork server -> parent: kind + two big-endian int32.
SPAWNED = b"P"  # pid of the new program process (-1 and an errno when fork failed)
EXITED = b"X"  # pid, exit code (128 + N: killed by signal N)
SERVER_MESSAGE = 9

READY = b"R"  # JSON {"layers": {name: description}}, sent before the program is loaded
GO = b"go"  # the parent's answer to READY: load the program (it checked the layers first)
LOADED = b"L"  # JSON {"ok": true} or {"ok": false, "error": "..."}
VALUES = b"V"  # one code byte per row, in row order, streamed while a chunk runs
SAMPLE = b"S"  # 4-byte row index (within the chunk) + UTF-8 error message of that row
FATAL = b"E"  # UTF-8 message: the worker's own failure, then it exits

HEADER = 5
CHUNK_HEAD = ">II"
SEPARATORS = ("\x00", "\x1e", "\ufdd0", "\U0010fffe")  # tried in turn; JSON-free and split in C
MAX_JSON = 16 * 1024  # READY / LOADED
MAX_SAMPLE = 1024
MAX_SAMPLES = 3  # SAMPLE frames per chunk
MAX_FATAL = 1024

# A row's code: 0..126 is a class id; the rest say why the row abstains.
ABSTAIN = 0xFF  # the program returned -1
EXCEPTION = 0xF0
NON_INT = 0xF1
OUT_OF_RANGE = 0xF2
TIMEOUT = 0xF3
SKIPPED = 0xF4  # not run: the chunk was given up after too many timeouts
ERROR_CODES = {EXCEPTION: "exception", NON_INT: "non_int", OUT_OF_RANGE: "out_of_range",
               TIMEOUT: "timeout", SKIPPED: "skipped"}
MAX_CLASSES = 127

EXIT_STUCK = 75  # the program kept running after its CPU timeout (it swallowed the timeout)
EXIT_SIGNAL_BASE = 128  # the outer process exits 128 + N when the program process died of signal N
