"""Talking to LLMs: one session over the official SDKs, every call priced and recorded.

    session.py        LLMSession: OpenAI, Anthropic and OpenAI-compatible servers; retries, timeouts,
                      the budget cap, requests in flight, malformed replies as errors
    cache.py          the reply cache (same prompt and parameters: the same reply, at $0)
    catalogue.py      ModelSpec and the model catalogue of config.json (provider, API id, prices)
    tokens.py         token counts (tiktoken where it can load offline; an approximation otherwise)
"""
