"""One run's choices: `RunConfig` (from flags, the wizard or the public API), and the helpers that
build it from config.json's defaults or from what a run folder's manifest recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alchemist.core.choices import FEATURES, KNOWLEDGE_TYPES, LABEL_MODELS
from alchemist.core.errors import AlchemistError
from alchemist.core.files import read_json
from alchemist.core.paths import in_project
from alchemist.data.tasks import is_builtin
from alchemist.pipeline.settings import Settings
from alchemist.sandbox.limits import SandboxLimits

MAX_REFINE_ROUNDS = 5  # each round shows valid mistakes again: more rounds fit valid's shown half more
MAX_CONCURRENCY = 64


@dataclass
class RunConfig:
    """Every choice of one run: `apply` (saved programs or --human votes) or `run` (generate, then apply)."""

    dataset: str
    command: str = "apply"  # apply | run | zero-shot
    programs_dir: Path | None = None
    human: bool = False  # use the dataset's own weak_labels instead of program files
    data_dir: Path | None = None
    label_model: str = "auto"  # auto (chosen on valid) | snorkel | majority | weighted
    seeds: int = 5
    json_path: Path | None = None
    command_line: str = ""  # the whole command as typed (the report shows it), secrets redacted
    out_dir: Path | None = None  # apply: where the results folder is created; run: the runs' root
    saved_dir: Path = field(default_factory=lambda: in_project("generated_lfs"))
    text_column: str = "text"
    label_column: str | None = "label"
    id_column: str | None = None  # the rows' own ids (default: a column named id, if any)
    encoding: str = "utf-8"  # of the user's CSV / TSV / JSONL files
    answers: Path | None = None  # a person's answers (alchemist annotate); default annotations/<dataset>.jsonl
    use_answers: bool = True  # False (--no-answers): ignore them
    classes: list[str] | None = None
    task_card: Path | None = None
    # image datasets: group column(s) of a CSV, the CLIP model, the concepts (a file; else the LLM's / the run's)
    group_column: str | None = None
    clip_model: str = "openai/clip-vit-base-patch32"
    concepts_path: Path | None = None
    concepts_per_class: int = 8
    # a labeled file without valid/test splits: the shares held out of train to score the run
    split_valid: float = 0.15
    split_test: float = 0.15
    split_seed: int = 0
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    column_cache: bool = True  # reuse columns of unchanged programs on unchanged data
    features: str = "auto"  # distillation features: auto (chosen on valid) | tfidf | embeddings
    embedding_model: str | None = None  # a sentence-transformers model (Hugging Face name or folder); None: MiniLM
    device: str = "auto"  # for embeddings and CLIP: auto (CUDA, then MPS, then CPU) | cpu | cuda | mps
    vetting: bool = True  # leave duplicates, no-coverage and worse-than-chance programs out (on valid)
    distill: bool = True  # False (--no-distill): labels only, no distilled model
    backend: str = "local"  # local | dask
    scheduler: str | None = None  # a Dask scheduler address; None starts a LocalCluster
    partition_rows: int = 50_000  # rows per Dask task (in-memory data)
    # generation (command == "run")
    mode: str = "alchemist"
    code_model: str = "gpt-4o-mini"
    knowledge_model: str | None = None  # default: the code model
    knowledge_type: str = "rules"
    num_programs: int = 10
    description: str | None = None  # the task in the user's own words (default: the task card's)
    base_url: str | None = None
    offline: bool = False
    use_cache: bool = True  # False (--no-cache): fresh replies, even for prompts asked before
    max_cost: float | None = None
    temperature: float = 0.7
    max_output_tokens: int = 2048
    llm_timeout_s: float = 120.0
    llm_retries: int = 4
    concurrency: int = 8  # LLM requests in flight at most (fewer while the provider answers 429)
    trial_rows: int = 20
    prompt_rows: int = 8  # unlabeled train rows shown in the code prompt (0: none)
    refine_rounds: int = 1  # rounds in which weak programs are rewritten from their valid mistakes (0: none)
    silver: int = 0  # --silver N: the code LLM labels N random train rows, used as valid for choices only
    # RAG mode (mode == "alchemist-rag")
    rag_paths: list[Path] = field(default_factory=list)
    chunk_size: int = 1000
    chunk_overlap: int = 150
    top_k: int = 4
    embeddings: str = "local"  # local | openai
    # zero-shot labeling (command == "zero-shot"): code_model labels rows directly
    limit: int | None = None  # rows per split to label
    batch_size: int = 10

    def validate(self) -> None:
        if self.command == "apply" and self.human == (self.programs_dir is not None):
            raise AlchemistError("give either a folder of programs or --human (the dataset's own votes)")
        if self.backend not in ("local", "dask"):
            raise AlchemistError(f"unknown backend {self.backend!r} (choose local or dask)")
        if self.command not in ("apply", "run", "zero-shot"):
            raise AlchemistError(f"unknown command {self.command!r}")
        if self.seeds < 1:
            raise AlchemistError(f"--seeds must be at least 1, not {self.seeds}")
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise AlchemistError(f"unknown device '{self.device}' (choose from auto, cpu, cuda, mps)")
        if self.features not in FEATURES:
            raise AlchemistError(f"unknown features '{self.features}' (choose from {', '.join(FEATURES)})")
        if self.label_model not in LABEL_MODELS:
            raise AlchemistError(f"unknown label model '{self.label_model}' (choose from {', '.join(LABEL_MODELS)})")
        if self.limits.row_timeout_s <= 0:
            raise AlchemistError("--timeout must be a positive number of seconds")
        if self.limits.memory_mb < 64:
            raise AlchemistError("--memory-mb must be at least 64")
        if self.limits.chunk_rows < 1:
            raise AlchemistError("--chunk-rows must be at least 1")
        if self.limits.budget_min_s <= 0 or self.limits.budget_per_row_ms < 0:
            raise AlchemistError("--program-budget must be a positive number of seconds")
        if self.command == "run":
            if self.prompt_rows < 0:
                raise AlchemistError("--prompt-rows must be 0 or more")
            if not 0 <= self.refine_rounds <= MAX_REFINE_ROUNDS:
                raise AlchemistError(f"--refine-rounds must be between 0 and {MAX_REFINE_ROUNDS}")
            if self.num_programs < 1:
                raise AlchemistError("--num-programs must be at least 1")
            if self.mode == "alchemist-rag" and not self.rag_paths:
                raise AlchemistError("the alchemist-rag mode needs your documents: --rag-path FILE_OR_FOLDER")
            if self.chunk_size < 100 or not 0 <= self.chunk_overlap < self.chunk_size or self.top_k < 1:
                raise AlchemistError("--chunk-size must be at least 100, --chunk-overlap below it, --top-k at least 1")
            if self.knowledge_type not in KNOWLEDGE_TYPES:
                raise AlchemistError(f"unknown knowledge type '{self.knowledge_type}' "
                                     f"(choose from {', '.join(KNOWLEDGE_TYPES)})")
        if self.max_cost is not None and self.max_cost <= 0:
            raise AlchemistError("--max-cost must be a positive number of dollars")
        if not (0 < self.split_valid < 1 and 0 < self.split_test < 1 and self.split_valid + self.split_test <= 0.8):
            raise AlchemistError("own_split_valid and own_split_test must be shares between 0 and 1 that "
                                 "leave at least 20% of the rows for training")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise AlchemistError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}, not {self.concurrency}")
        if not 1 <= self.concepts_per_class <= 30:
            raise AlchemistError("--concepts-per-class must be between 1 and 30")
        if self.command == "zero-shot" and (self.batch_size < 1 or (self.limit is not None and self.limit < 1)):
            raise AlchemistError("--batch-size and --limit must be at least 1")


    def check_outputs(self) -> None:
        """Every place this run will write can be written, said before any work (one line each)."""
        from alchemist.core.files import check_writable

        if self.json_path is not None:
            check_writable(Path(self.json_path), "--json", folder=False)
        if self.command == "apply" and self.out_dir is None and self.programs_dir is not None and not self.human:
            check_writable(Path(self.programs_dir) / "results", "the results folder")
        else:
            check_writable(Path(self.out_dir or self.saved_dir), "--out" if self.out_dir else "LF_saved_dir")

    def data_spec(self) -> dict:
        """Everything that decides which rows a run reads and how they split: recorded in the manifest
        and the report, so `main.py apply RUN_DIR` re-applies a run on the same data without flags."""
        path = Path(self.dataset).expanduser()
        own = not is_builtin(self.dataset) and path.exists()
        return {"dataset": str(path.resolve()) if own else self.dataset,
                "data_dir": str(Path(self.data_dir).expanduser().resolve()) if self.data_dir else None,
                "text_column": self.text_column, "label_column": self.label_column, "classes": self.classes,
                **({"id_column": self.id_column} if self.id_column else {}),
                **({"encoding": self.encoding} if self.encoding.lower() not in ("utf-8", "utf8") else {}),
                "task_card": str(Path(self.task_card).expanduser().resolve()) if self.task_card else None,
                "group_column": self.group_column,
                "clip_model": str(Path(self.clip_model).expanduser().resolve())
                if Path(self.clip_model).expanduser().is_dir() else self.clip_model,
                "split": {"valid": self.split_valid, "test": self.split_test, "seed": self.split_seed}}


def data_choices(spec: object, where: str) -> dict:
    """RunConfig fields from a recorded data spec (see RunConfig.data_spec); a damaged one is an error."""
    def text(key: str, optional: bool = True) -> str | None:
        value = spec.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise AlchemistError(f"{where}: the recorded data has no usable '{key}'")
        return value

    if not isinstance(spec, dict):
        raise AlchemistError(f"{where}: no record of the run's data; give --dataset NAME|PATH")
    classes = spec.get("classes")
    if classes is not None and not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        raise AlchemistError(f"{where}: the recorded classes are not a list of names")
    split = spec.get("split") if isinstance(spec.get("split"), dict) else {}
    shares = {k: split.get(k) for k in ("valid", "test")}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in shares.values()) \
            or not isinstance(split.get("seed"), int):
        raise AlchemistError(f"{where}: the recorded evaluation split is damaged")
    data_dir, card = text("data_dir"), text("task_card")
    return {"dataset": text("dataset", optional=False), "data_dir": Path(data_dir) if data_dir else None,
            "text_column": text("text_column", optional=False), "label_column": text("label_column"),
            "classes": classes, "task_card": Path(card) if card else None, "split_valid": float(shares["valid"]),
            "split_test": float(shares["test"]), "split_seed": split["seed"],
            **({"group_column": spec["group_column"]} if isinstance(spec.get("group_column"), str) else {}),
            **({"id_column": spec["id_column"]} if isinstance(spec.get("id_column"), str) else {}),
            **({"encoding": spec["encoding"]} if isinstance(spec.get("encoding"), str) else {}),
            **({"clip_model": spec["clip_model"]} if isinstance(spec.get("clip_model"), str) and spec["clip_model"]
               else {})}


def recorded_data(run_dir: Path, default_data_dir: Path | None = None) -> dict:
    """The data choices a run folder's manifest.json recorded (for `apply RUN_DIR` with no --dataset);
    a run that recorded no data folder gets `default_data_dir`."""
    path = Path(run_dir) / "manifest.json"
    manifest = read_json(path, f"{run_dir}: no manifest.json records which data these programs were written for; "
                               "give --dataset NAME|PATH", "; give --dataset NAME|PATH")
    config = manifest.get("config") if isinstance(manifest, dict) else None
    spec = config.get("data") if isinstance(config, dict) else None
    if spec is None and isinstance(config, dict) and isinstance(config.get("dataset"), str):
        spec = {"dataset": config["dataset"], "text_column": "text", "label_column": "label",
                "split": {"valid": 0.15, "test": 0.15, "seed": 0}}  # runs made before the spec was recorded
    choices = data_choices(spec, str(path))
    choices["data_dir"] = choices["data_dir"] or default_data_dir
    return choices


def reapply_config(settings: Settings, run_dir: Path, data_dir: Path | None = None) -> RunConfig:
    """`apply RUN_DIR` on the data the run recorded, with config.json's defaults: the wizard's re-apply
    and the review screen."""
    data = recorded_data(run_dir, data_dir or settings.data_dir)
    return run_config(settings, command="apply", programs_dir=Path(run_dir), **data)


def split_defaults(d: dict) -> dict:
    return {"split_valid": d.get("own_split_valid", 0.15), "split_test": d.get("own_split_test", 0.15),
            "split_seed": d.get("own_split_seed", 0)}


def knowledge_default(settings: Settings, code_model: str) -> str:
    """The knowledge model when none is named: config.json's knowledge_model if its requests go where the code
    model's go (the same provider at the same address), else the code model itself — so a run with a local
    code model never sends the user's task and rows to another provider unasked."""
    named = settings.defaults.get("knowledge_model") or code_model
    code, knowledge = settings.models.get(code_model), settings.models.get(named)
    if code is None or knowledge is None:
        return code_model
    same = knowledge.provider == code.provider and knowledge.endpoint() == code.endpoint()
    return named if same else code_model


def run_config(settings: Settings, **choices) -> RunConfig:
    """A `run` RunConfig: config.json's defaults, then the given choices. The wizard and the
    command-line flags both build their runs here, so identical choices make identical runs."""
    d = settings.defaults
    base = dict(
        command="run", label_model=d["label_model"], seeds=d["seeds"], mode=d["mode"], code_model=d["code_model"],
        knowledge_model=None, knowledge_type=d["knowledge_type"], num_programs=d["num_programs"],
        temperature=d["temperature"], max_output_tokens=d["max_output_tokens"], llm_timeout_s=d["llm_timeout_s"],
        llm_retries=d["llm_retries"], trial_rows=d["trial_rows"], max_cost=d.get("max_cost"),
        prompt_rows=d.get("prompt_rows", 8), refine_rounds=d.get("refine_rounds", 1),
        concurrency=d.get("concurrency", 8), saved_dir=settings.saved_dir, limits=sandbox_limits(d),
        embedding_model=d.get("embedding_model") or None, device=d.get("device") or "auto",
        **split_defaults(d),
    )
    base.update(choices)
    if base["knowledge_model"] is None:
        base["knowledge_model"] = knowledge_default(settings, base["code_model"])
    return RunConfig(**base)


def sandbox_limits(defaults: dict, **overrides) -> SandboxLimits:
    """SandboxLimits from config.json's defaults; flags override (None = keep the default)."""
    d = {k: v for k, v in overrides.items() if v is not None}
    return SandboxLimits(row_timeout_s=d.get("row_timeout_s", defaults["row_timeout_s"]),
                         memory_mb=d.get("memory_mb", defaults["memory_mb"]),
                         workers=d.get("workers", defaults["workers"]),
                         chunk_rows=d.get("chunk_rows", defaults["chunk_rows"]),
                         budget_min_s=d.get("budget_min_s", defaults["program_budget_s"]),
                         budget_per_row_ms=defaults["program_budget_ms_per_row"],
                         allow_weak=bool(d.get("allow_weak", defaults.get("allow_weak_sandbox", False))))
