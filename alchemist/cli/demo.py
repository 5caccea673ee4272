"""The offline demo: the whole flow with no key and no network, on the bundled demo data.

LLM replies come from the bundled demo's `recorded_replies/` (alchemist/bundled/demo/), in the project's
own cache format; they were written for this demo (not produced by a provider) and recorded with
`python tests/record_demo_replies.py`, which must be re-run when the prompt templates change.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.paths import DEMO, command
from alchemist.llm.catalogue import ModelSpec

RECORDED_DIR = DEMO / "recorded_replies"
DEMO_PROGRAMS = 6
DEMO_PORT = 48219  # the replies were recorded from a stand-in server there; replaying never connects
DEMO_MODEL = ModelSpec(name="recorded-demo", provider="openai-compatible", api_id="recorded-demo",
                       input_per_1m=0.0, output_per_1m=0.0, base_url=f"http://127.0.0.1:{DEMO_PORT}/v1",
                       note="scripted replies recorded for the offline demo")
BANNER = ("Recorded demo: no API key, no network. The LLM's replies were written for this demo and are "
          "replayed from the demo's recorded replies (alchemist/bundled/demo/); everything else — the safety gate, the sandbox, "
          "the label model, distillation — runs for real.")


def run_demo(out: Path | None = None, seeds: int = 3, record: bool = False) -> int:
    """The offline demo (`record=True` is used by tests/record_demo_replies.py to re-record it)."""
    from alchemist.core.progress import make_progress
    from alchemist.llm.session import LLMError
    from alchemist.pipeline.executor import Executor
    from alchemist.pipeline.run_config import RunConfig
    from alchemist.pipeline.settings import load_settings
    from alchemist.report.console import render

    settings = load_settings()
    settings.models = {**settings.models, DEMO_MODEL.name: DEMO_MODEL}
    settings.cache_dir = RECORDED_DIR
    # Built from RunConfig's fixed defaults, not config.json: the recorded replies are keyed on the exact
    # prompts and sampling parameters, so a user's config.json must not change what the demo asks.
    config = RunConfig(dataset="demo", command="run", mode="alchemist", code_model=DEMO_MODEL.name,
                       knowledge_model=DEMO_MODEL.name, knowledge_type="rules", num_programs=DEMO_PROGRAMS,
                       offline=not record, base_url=DEMO_MODEL.base_url,  # whatever $OPENAI_BASE_URL says
                       seeds=seeds, out_dir=out,
                       concurrency=1 if record else 8,  # recording plays a queue of replies: in order
                       saved_dir=settings.saved_dir)  # other caches go to settings.cache_root, never beside the replies
    if not record:
        print(BANNER, file=sys.stderr)
    try:
        report = Executor(config, make_progress(), settings).run()
    except LLMError as e:
        raise AlchemistError(f"{e} — the recorded demo replies no longer match the prompts; re-record them "
                             "with `python tests/record_demo_replies.py`") from None
    render(report)
    if not record:
        print("This was the recorded demo: the LLM replies were replayed, not generated. For real runs see "
              f"`{command()} run --help` or start the wizard with `{command()}`.", file=sys.stderr)
    return 0
