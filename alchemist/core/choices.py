"""The names a user can choose from (modes, knowledge types, label models, features), kept apart from
the code that implements them so `main.py --help` can list them without importing that code."""

MODE_NAMES = ("scriptoriumws", "alchemist", "alchemist-rag")  # modes/ implements each (checked by a test)
KNOWLEDGE_TYPES = ("rules", "keywords", "description", "examples")
LABEL_MODELS = ("auto", "snorkel", "majority", "weighted")
FEATURES = ("auto", "tfidf", "embeddings", "combined")
