"""What `chalice package` generated, read from its sam.json.

The merge template is built from this first pass instead of from guessed
names: Chalice decides the logical ids (APIHandler, AuditIngest, <Name>Role,
<Name>SqsEventSource ...) and may change them as handlers are added.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalice.utils import to_cfn_resource_name

FUNCTION = "AWS::Serverless::Function"
# Chalice's REST API entry point is always the `app` object of app.py.
API_HANDLER = "app.app"


@dataclass(frozen=True)
class Function:
    logical_id: str
    role_id: str | None  # the AWS::IAM::Role chalice generated for it, if any
    handler: str
    runtime: str
    timeout: int
    environment: dict[str, str]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def sqs_events(self) -> dict[str, dict[str, Any]]:
        return {name: event for name, event in self.events.items() if event.get("Type") == "SQS"}


def functions(sam: dict[str, Any]) -> list[Function]:
    found = []
    for logical_id, resource in sam.get("Resources", {}).items():
        if resource.get("Type") != FUNCTION:
            continue
        props = resource.get("Properties", {})
        role = props.get("Role")
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else None
        found.append(Function(
            logical_id=logical_id,
            role_id=role_id,
            handler=props.get("Handler", ""),
            runtime=props.get("Runtime", ""),
            timeout=int(props.get("Timeout", 3)),  # Lambda's default
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            events=dict(props.get("Events", {})),
        ))
    return found


def api_function(sam: dict[str, Any]) -> Function:
    for function in functions(sam):
        if function.handler == API_HANDLER:
            return function
    raise LookupError("chalice output has no REST API handler (Handler app.app): does app.py define routes?")


def lambda_function(sam: dict[str, Any], name: str) -> Function:
    """The function of ``@app.lambda_function(name=name)``."""
    logical_id = to_cfn_resource_name(name)
    for function in functions(sam):
        if function.logical_id == logical_id:
            return function
    raise LookupError(
        f"chalice output has no function {logical_id}: is @app.lambda_function(name={name!r}) still registered?")
