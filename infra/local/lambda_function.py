"""Invoking one of the app's event handlers the way Lambda would: the event
dict and a fresh context per invocation, under the deployed function's name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from chalice.config import Config
from chalice.local import LambdaContext


@dataclass(frozen=True)
class LambdaFunction:
    name: str  # as deployed: <app>-<stage>-<handler>
    handler: Callable[[dict[str, Any], Any], Any]
    memory_size: int = 128
    timeout_seconds: int = 60  # reported by the context, not enforced

    @classmethod
    def from_config(cls, config: Config, handler_name: str) -> "LambdaFunction":
        scoped = config.scope(config.chalice_stage, handler_name)
        return cls(name=f"{config.app_name}-{config.chalice_stage}-{handler_name}",
                   handler=config.chalice_app.handler_map[handler_name],
                   memory_size=scoped.lambda_memory_size, timeout_seconds=scoped.lambda_timeout)

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(function_name=self.name, memory_size=self.memory_size,
                                max_runtime_ms=self.timeout_seconds * 1000)
        return self.handler(event, context)
