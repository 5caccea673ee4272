"""Wire format between the parent and a program process. Constants only: imported by both sides.

Parent -> worker: 4-byte big-endian length + JSON (first the config with the one program, then
one {"texts": [...]} per chunk; EOF ends the worker).
Worker -> parent: 1 kind byte + 4-byte big-endian length + payload. The parent treats every byte
as hostile: kinds, sizes and contents are checked, and a worker that breaks the format is killed.
"""

READY = b"R"  # JSON {"layers": {name: description}}, sent before the program is loaded
LOADED = b"L"  # JSON {"ok": true} or {"ok": false, "error": "..."}
VALUES = b"V"  # one code byte per row, in row order, streamed while a chunk runs
SAMPLE = b"S"  # 4-byte row index (within the chunk) + UTF-8 error message of that row
FATAL = b"E"  # UTF-8 message: the worker's own failure, then it exits

HEADER = 5
MAX_JSON = 16 * 1024  # READY / LOADED
MAX_SAMPLE = 1024
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
