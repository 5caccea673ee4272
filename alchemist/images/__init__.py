"""Images through concepts: CLIP embeddings and the concepts programs read scores of.

    clip.py           a local CLIP model: image embeddings (cached by image bytes), concept similarities
    concepts.py       concepts from the knowledge LLM's reply, or a concepts.json, checked and saved
"""
