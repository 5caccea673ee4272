"""`datasets --download NAME`: a built-in dataset fetched, converted to the WRENCH layout, checked, and
only then moved into place (nothing half-written).

    sources.py        the sources table (bundled/dataset_sources.json) as Source rows; how to get each
    hub.py            the Hugging Face Hub client: pinned revisions, sizes, progress, clear errors
    formats.py        each source format into WRENCH rows, and the documented seeded splits
    checks.py         what every download must pass (sizes, ids, labels) before it is written
    fetch.py          the orchestration: fetch -> convert -> check -> install, provenance
"""
