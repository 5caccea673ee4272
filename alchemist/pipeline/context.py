"""What every stage of a run shares: the run's choices, the settings, the progress display, and the
warnings and timings the report collects. Each stage gets it in its constructor."""

from __future__ import annotations

from dataclasses import dataclass, field

from alchemist.core.progress import Progress
from alchemist.pipeline.run_config import RunConfig
from alchemist.pipeline.settings import Settings


@dataclass
class RunContext:
    config: RunConfig
    settings: Settings
    progress: Progress
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
