"""The template merged into `chalice package` output for one stage.

It is infra/resources.json (tables, bucket, queues) plus what Chalice cannot
express, keyed by the logical ids Chalice generated (read from a first
package pass, see infra/chalice_output.py):

- function names, log groups with retention, and the stack's real resource
  names in each function's environment (the bucket name holds the account id,
  which config.json cannot know);
- the hand-written IAM policy of every function role (infra/iam_policy.py);
- ReportBatchItemFailures on every SQS event source, and the queue as a
  reference to the stack's queue;
- audit log shipping and the CDR inbox notification (infra/integrations.py);
- table protection and alarms (infra/operations.py);
- the rate limits' WAF web ACL on the API stage (infra/waf.py);
- an ANY method and greedy resources so every path and method of the REST
  API reaches the function, which answers 404/405 in the surface's envelope
  (infra/gateway_routes.py).

Chalice's merge is a deep merge where this template wins; lists replace.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from infra import chalice_output, gateway_routes, iam_policy, integrations, operations, waf
from infra.chalice_output import Function
from infra.stateful import BUCKET, QUEUE, TABLE, Stateful, env_var_name

LOG_RETENTION_DAYS = 30
BATCH_FAILURES = ["ReportBatchItemFailures"]

# Lambda refuses these in a function's environment (it sets them itself), and
# endpoint overrides would point a deployed function at a local emulator.
RESERVED_ENV = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
RESERVED_ENV_PREFIXES = ("AWS_LAMBDA_", "AWS_ENDPOINT_URL")
RESOURCE_ENV_SUFFIXES = ("_TABLE", "_BUCKET", "_QUEUE")


def build(*, stage: str, app_name: str, sam: dict[str, Any], stateful: Stateful) -> dict[str, Any]:
    template = copy.deepcopy(stateful.template)
    template["Description"] = (f"Dialtone {stage}: `chalice package` output merged with infra/resources.json "
                               "by infra/package.py.")
    # The package is stage-specific (config.json's environment is baked in), so
    # deploying it under another Stage value would mix two environments.
    template["Parameters"]["Stage"].update({"Default": stage, "AllowedValues": [stage]})
    functions = chalice_output.functions(sam)
    resources = template["Resources"]
    for part in (
        _functions(functions, app_name, stateful),
        _role_policies(functions, stateful),
        _sqs_event_sources(functions, stateful, stage),
        integrations.audit_shipping(sam, api_logs=log_group_id(chalice_output.api_function(sam))),
        integrations.cdr_inbox_notification(stateful),
        operations.table_protection(stateful, stage),
        operations.alarms(stateful, sam),
        _catch_all(sam),
        waf.resources(sam),
    ):
        _deep_update(resources, part)
    return template


def _catch_all(sam: dict[str, Any]) -> dict[str, Any]:
    api = gateway_routes.api_resource_id(sam)
    swagger = sam["Resources"][api]["Properties"]["DefinitionBody"]
    return {api: {"Properties": {"DefinitionBody": gateway_routes.catch_all(swagger)}}}


def log_group_id(function: Function) -> str:
    return f"{function.logical_id}LogGroup"


def _functions(functions: list[Function], app_name: str, stateful: Stateful) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for function in functions:
        _check_environment(function)
        # An explicit name makes the log group name known without referencing
        # the function, which would close a cycle through its role's policy.
        name = f"{app_name}-${{Stage}}-{_kebab(function.logical_id)}"
        parts[log_group_id(function)] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/{name}"},
                           "RetentionInDays": LOG_RETENTION_DAYS},
        }
        parts[function.logical_id] = {
            # The group must exist before the first invocation: the role may not create it.
            "DependsOn": [log_group_id(function)],
            "Properties": {
                "FunctionName": {"Fn::Sub": name},
                "Environment": {"Variables": _environment_overrides(function, stateful)},
            },
        }
    return parts


def _environment_overrides(function: Function, stateful: Stateful) -> dict[str, Any]:
    by_var = {env_var_name(logical): logical
              for kind in (TABLE, BUCKET, QUEUE) for logical in stateful.of_type(kind)}
    overrides: dict[str, Any] = {}
    for var in function.environment:
        logical = by_var.get(var)
        if logical is None:
            if var.endswith(RESOURCE_ENV_SUFFIXES):
                raise ValueError(f"{function.logical_id}: {var} names no resource of infra/resources.json "
                                 f"(expected one whose logical id is {_camel(var)})")
            continue
        kind = stateful.resources[logical]["Type"]
        overrides[var] = {"Fn::GetAtt": [logical, "QueueName"]} if kind == QUEUE else {"Ref": logical}
    return overrides


def _check_environment(function: Function) -> None:
    bad = sorted(v for v in function.environment if v in RESERVED_ENV or v.startswith(RESERVED_ENV_PREFIXES))
    if bad:
        raise ValueError(f"{function.logical_id}: this stage's environment sets {', '.join(bad)}, which a "
                         "deployed Lambda function must not set (reserved by Lambda or local-only); "
                         "package a stage meant for AWS (dev, staging, prod)")


def _role_policies(functions: list[Function], stateful: Stateful) -> dict[str, Any]:
    log_groups: dict[str, list[str]] = {}
    environments: dict[str, dict[str, str]] = {}
    for function in functions:
        if function.role_id is None:
            raise ValueError(f"{function.logical_id} has no stack-managed role; the policy cannot be attached")
        log_groups.setdefault(function.role_id, []).append(log_group_id(function))
        environments.setdefault(function.role_id, {}).update(function.environment)
    policies = {role: iam_policy.document(stateful, groups, environments[role]) for role, groups in log_groups.items()}
    return {
        role: {
            "Metadata": {"PermissionReasons": iam_policy.reasons(policy)},
            "Properties": {"Policies": [{
                "PolicyName": f"{role}Policy",
                "PolicyDocument": policy,
            }]},
        }
        for role, policy in policies.items()
    }


def _sqs_event_sources(functions: list[Function], stateful: Stateful, stage: str) -> dict[str, Any]:
    # App queues only: the role has no access to dead-letter queues.
    by_name = {stateful.physical_name(q, stage): q for q in stateful.app_queues()}
    parts: dict[str, Any] = {}
    for function in functions:
        for event_id, event in function.sqs_events().items():
            queue_name = _arn_name(event["Properties"]["Queue"])
            logical = by_name.get(queue_name)
            if logical is None:
                raise ValueError(f"{function.logical_id} consumes SQS queue {queue_name!r}, which is not an app "
                                 f"queue of infra/resources.json for stage {stage}: its role could not read it")
            visibility = stateful.resources[logical]["Properties"].get("VisibilityTimeout", 30)
            if visibility < function.timeout:
                # Lambda refuses the mapping: a message would reappear while still being processed.
                raise ValueError(f"{logical} VisibilityTimeout {visibility}s is shorter than the timeout of "
                                 f"{function.logical_id} ({function.timeout}s)")
            events = parts.setdefault(function.logical_id, {"Properties": {"Events": {}}})["Properties"]["Events"]
            events[event_id] = {"Properties": {
                # Without it one failed message makes SQS redeliver the whole batch.
                "FunctionResponseTypes": BATCH_FAILURES,
                # A reference (not a name) so the mapping is created after the
                # queue. Fn::Sub because Chalice writes an Fn::Sub here and its
                # merge would combine a GetAtt with it into one invalid dict.
                "Queue": {"Fn::Sub": f"${{{logical}.Arn}}"},
            }}
    return parts


def _arn_name(arn: Any) -> str:
    """Last ARN field of a literal ARN or of chalice's Fn::Sub ARN string."""
    text = arn["Fn::Sub"] if isinstance(arn, dict) else arn
    return str(text).rsplit(":", 1)[-1]


def _kebab(logical_id: str) -> str:
    """APIHandler -> api-handler, AuditIngest -> audit-ingest."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", logical_id).lower()


def _camel(var: str) -> str:
    return "".join(part.capitalize() for part in var.split("_"))


def _deep_update(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value
