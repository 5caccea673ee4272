"""The offline demo: the whole flow with no key and no network, on the bundled demo data.

LLM replies come from `datasets/demo/recorded_replies/`, stored in the project's own cache format;
they were written for this demo (not produced by a provider) and recorded with
`python datasets/demo/record_replies.py`, which must be re-run when the prompt templates change.
"""

from __future__ import annotations

from alchemist.core.paths import DEMO
from alchemist.llm.catalogue import ModelSpec

RECORDED_DIR = DEMO / "recorded_replies"
DEMO_PROGRAMS = 6
DEMO_MODEL = ModelSpec(name="recorded-demo", provider="openai-compatible", api_id="recorded-demo",
                       input_per_1m=0.0, output_per_1m=0.0, base_url="http://127.0.0.1:9/v1",
                       note="scripted replies recorded for the offline demo")
BANNER = ("Recorded demo: no API key, no network. The LLM's replies were written for this demo and are "
          "replayed from datasets/demo/recorded_replies/; everything else — the safety gate, the sandbox, "
          "the label model, distillation — runs for real.")
