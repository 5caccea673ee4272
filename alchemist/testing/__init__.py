"""Stand-ins for tests and benchmarks, offline: nothing here is used by a run.

    local_server.py   a threaded HTTP server on 127.0.0.1, stopped with its context
    fake_llm.py       FakeLLM: speaks the OpenAI chat-completions and Anthropic messages APIs with
                      scripted replies, so the real SDKs (and our real client code) can be tested
                      without the internet — also useful to test your own pipelines around Alchemist
    tiny_clip.py      a tiny random CLIP in the transformers format, and small generated image datasets
    tiny_encoder.py   a tiny random sentence-transformers-style BERT (for --embedding-model tests)
"""
