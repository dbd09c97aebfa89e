"""The agent's error hierarchy. Per-event problems are never exceptions: they become tags and counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

EX_CONFIG = 78  # sysexits.h EX_CONFIG: what `validate` and `run` exit with on a bad config


class LogferryError(Exception):
    pass


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(LogferryError):
    """Every problem found in one pass over a config file."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class BuildError(LogferryError):
    """A valid config that could not be turned into running components (e.g. a key file is missing)."""


class HealthcheckError(LogferryError):
    """A destination is unreachable or refuses us; the message says how to fix it."""


class DeliveryError(LogferryError):
    retriable: ClassVar[bool] = False


class TransientDeliveryError(DeliveryError):
    retriable = True


class PermanentDeliveryError(DeliveryError):
    retriable = False
