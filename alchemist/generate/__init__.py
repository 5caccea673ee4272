"""Writing labeling programs with an LLM, and everything priced around it. None of it runs generated code.

    prompts.py        the prompt templates (prompts/templates/) filled from a task card
    extract.py        the code in a reply: fences, the label_function, the strategy line
    modes/            the modes (ScriptoriumWS, Alchemist, Alchemist with RAG) and their registry
    run_store.py      a generation run folder: program files with headers, manifest.json written atomically
    mistakes.py       which programs are weak on valid, and the rows they got wrong (refinement evidence)
    refinement.py     Refiner: weak programs rewritten from their valid mistakes; the better version kept
    review_requests.py  the review screen's LLM requests: a fixed program, more programs for a weak class
    zero_shot.py      the baseline: the LLM labels rows directly, and what that would cost
    estimate.py       what a run will cost, before it spends anything
    ledger.py         what runs did cost, from their manifests (pricing)
    rag.py            documents for the RAG mode: loading, chunks, a FAISS index, retrieval
"""
