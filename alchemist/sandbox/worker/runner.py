"""Load the one program of this process and run it row by row under a CPU-time timer.

Nothing here is trusted by the parent: a program that reaches this module's globals can only
change what its own process reports about itself, and the parent checks that and keeps time.
"""

import os
import signal
import struct
import sys
import time
import types

import protocol as P

TICK_S = 0.05  # CPU-time granularity of the per-row timer
FLUSH_EVERY_S = 0.25  # at most this long (CPU) between value frames while a chunk runs


class RowTimeout(BaseException):
    """Raised inside a program whose current row has used up its CPU budget."""


class State:
    active = False  # a chunk or the load is running: CPU time is being watched
    loading = False
    chunk = 0  # with the row number, names the call in progress (the timer reads both)
    seen = None
    stuck = 0.0
    raised_for = None  # RowTimeout is raised once per call, never into our own code
    row_timeout = 1.0
    flush_due = False
    last_flush = 0.0


STATE = State()
OWN_CODE: set = set()  # code objects of this process's own functions (filled at the bottom)


def _current_call(frame):
    """(chunk, row) of the call in progress, found on the stack: the row loop itself stays free of
    bookkeeping, which is what keeps it near the speed of a bare loop."""
    f = frame
    while f is not None:
        if f.f_code is run_chunk.__code__:
            return STATE.chunk, f.f_locals.get("i")
        f = f.f_back
    return "load" if STATE.loading else None


def on_prof_tick(signum, frame):
    state = STATE
    if not state.active:
        return
    now = time.monotonic()
    if now - state.last_flush >= FLUSH_EVERY_S:  # checked here, not on every row
        state.last_flush, state.flush_due = now, True
    call = _current_call(frame)
    if call != state.seen:
        state.seen, state.stuck = call, 0.0
        return
    state.stuck += TICK_S
    if state.stuck >= 1.5 * state.row_timeout + 0.5:
        os._exit(P.EXIT_STUCK)  # the program swallowed RowTimeout; the parent records the fault
    if (call is not None and state.stuck >= state.row_timeout and state.raised_for != call
            and frame.f_code not in OWN_CODE):
        state.raised_for = call
        raise RowTimeout()


def start_timer(row_timeout: float) -> None:
    STATE.row_timeout = row_timeout
    signal.signal(signal.SIGPROF, on_prof_tick)
    signal.setitimer(signal.ITIMER_PROF, TICK_S, TICK_S)


# --- what a program sees ------------------------------------------------------------------------
def _proxy(module_name: str, cfg: dict) -> types.SimpleNamespace:
    module = sys.modules[module_name]
    only = cfg["allowed_modules"][module_name]
    denied = set(cfg["denied_attrs"].get(module_name, ()))
    names = only if only is not None else [n for n in dir(module) if not n.startswith("_")]
    attrs = {}
    for n in names:
        value = getattr(module, n, None)
        if n in denied or value is None or isinstance(value, types.ModuleType):
            continue
        attrs[n] = value
    return types.SimpleNamespace(**attrs)


def make_builtins(cfg: dict) -> dict:
    import builtins

    allowed = cfg["allowed_modules"]
    internal = frozenset(cfg["internal_imports"])
    proxies: dict = {}

    def proxy(name: str) -> types.SimpleNamespace:
        if name not in proxies:
            proxies[name] = _proxy(name, cfg)
        return proxies[name]

    def restricted_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name in internal and name in sys.modules and not level:
            # C code of an allowed module (datetime.strptime) imports through the caller's
            # builtins and then reads sys.modules itself: it needs no value from us.
            return types.SimpleNamespace()
        if level or name not in allowed or name not in sys.modules:
            raise ImportError(f"import of '{name}' is not allowed")
        if fromlist or "." not in name:
            return proxy(name)
        # `import a.b` binds `a`: give a namespace that only reaches the allowed submodule.
        _, _, rest = name.partition(".")
        return types.SimpleNamespace(**{rest: proxy(name)})

    safe = {n: getattr(builtins, n) for n in cfg["safe_builtins"] if hasattr(builtins, n)}
    safe["__import__"] = restricted_import
    safe["__build_class__"] = builtins.__build_class__
    safe["print"] = lambda *a, **k: None  # programs' output goes nowhere
    return safe


def describe(exc: BaseException) -> str:
    """'ValueError: message' without letting a hostile __str__ take over."""
    kind = type(exc).__name__
    try:  # str() may run the program's own __str__ (under the timer: it is not our code)
        text = str(exc)
    except BaseException:  # noqa: BLE001 - the program's own exception may misbehave
        text = "<unprintable>"
    if type(text) is not str:
        text = ""
    return f"{kind}: {text[:300]}" if text else kind


def load_program(cfg: dict):
    """Compile and run the program's module code; return its entry point."""
    program = cfg["program"]
    code = compile(program["source"], f"<{program['name']}>", "exec")
    env = {"__builtins__": make_builtins(cfg), "__name__": "labeling_program"}
    STATE.active = STATE.loading = True
    try:
        exec(code, env)
    finally:
        STATE.active = STATE.loading = False
    fn = env.get(cfg["entry_point"])
    if not callable(fn):
        raise TypeError(f"{cfg['entry_point']} is not defined as a function")
    return fn


# --- the row loop -------------------------------------------------------------------------------
def run_chunk(fn, texts: list, n_classes: int, max_timeouts: int, send) -> None:
    """Stream one code byte per row (see protocol); error messages go as separate samples."""
    out = bytearray(len(texts))
    sent = timeouts = samples = 0
    state = STATE  # a local name: this loop is the hot path

    def flush(upto: int) -> None:
        nonlocal sent
        if upto > sent:
            send(P.VALUES, bytes(out[sent:upto]))
            sent = upto

    def note(code: int, msg: str, row: int) -> None:
        nonlocal samples
        if samples < P.MAX_SAMPLES:  # the message goes before its row's code: the parent stops at the last code
            samples += 1
            flush(row)
            send(P.SAMPLE, struct.pack(">I", row) + msg.encode("utf-8", "replace")[:P.MAX_SAMPLE - 8])
        out[row] = code

    state.chunk += 1
    state.active, state.last_flush, state.flush_due = True, time.monotonic(), False
    try:
        for i, x in enumerate(texts):
            try:
                v = fn(x)
            except RowTimeout:
                note(P.TIMEOUT, f"exceeded {state.row_timeout:g}s CPU", i)
                timeouts += 1
                if timeouts >= max_timeouts:  # give up on this chunk
                    out[i + 1:] = bytes([P.SKIPPED]) * (len(texts) - i - 1)
                    break
                continue
            except BaseException as e:  # noqa: BLE001 - a program may raise anything
                note(P.EXCEPTION, describe(e), i)
                continue
            if type(v) is int and -1 <= v < n_classes:
                out[i] = v & 0xFF
            elif type(v) is int:
                note(P.OUT_OF_RANGE, f"returned {v}, outside -1..{n_classes - 1}", i)
            else:
                note(P.NON_INT, f"returned {type(v).__name__}, not int", i)
            if state.flush_due:
                state.flush_due = False
                flush(i + 1)
    finally:
        state.active = False
    flush(len(out))


def own_code(*functions) -> None:
    """Mark functions (and the functions nested in them) as ours: a timeout is never raised there."""
    todo = [f.__code__ for f in functions]
    while todo:
        code = todo.pop()
        OWN_CODE.add(code)
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))


own_code(on_prof_tick, _current_call, start_timer, describe, load_program, run_chunk, make_builtins, _proxy)
