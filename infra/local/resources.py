"""Create the resources of infra/resources.json on an emulator.

The same CloudFormation definitions that the AWS stack deploys are read here
and turned into CreateTable / CreateBucket / CreateQueue calls, so the local
runtime and the tests cannot drift from production's key schemas and indexes.
Pseudo parameters resolve to a fixed fake account and us-east-1.

``connect_notifications`` does the same for the bucket's S3 -> SQS
notifications, read from the definition the AWS package merges into the
bucket (infra/integrations.py), so a file landing under cdr-inbox/ reaches
the cdr-files queue locally as it does on AWS (moto's S3 sends the events).
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from chalicelib.store.clients import client

TEMPLATE = Path(__file__).resolve().parents[1] / "resources.json"
FAKE_ACCOUNT = "000000000000"
REGION = "us-east-1"


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def _resolve(value: Any, stage: str, arns: dict[str, str]) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::Sub":
            names = {"Stage": stage, "AWS::AccountId": FAKE_ACCOUNT, "AWS::Region": REGION}
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], arg)
        if fn == "Fn::GetAtt" and arg[1] == "Arn":
            return arns[arg[0]]
        if fn == "Ref":
            return {"Stage": stage}.get(arg, arg)
    if isinstance(value, dict):
        return {k: _resolve(v, stage, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, stage, arns) for v in value]
    return value


def create_all(stage: str, *, visibility_timeout: int | None = None) -> dict[str, list[str]]:
    """Create every table, bucket and queue of the template that is missing
    (``visibility_timeout``, when given, for every queue instead of the
    template's). Returns what was created, by kind. Safe to run on every start."""
    resources = load_template()["Resources"]
    created: dict[str, list[str]] = {"tables": [], "buckets": [], "queues": []}
    arns: dict[str, str] = {}
    # Queues that others point at (dead-letter queues) first.
    ordered = sorted(resources.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
    for logical, resource in ordered:
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            props = _resolve(resource["Properties"], stage, arns)
            if _create_table(props):
                created["tables"].append(props["TableName"])
        elif kind == "AWS::S3::Bucket":
            props = _resolve(resource["Properties"], stage, arns)
            if _create_bucket(props["BucketName"]):
                created["buckets"].append(props["BucketName"])
        elif kind == "AWS::SQS::Queue":
            props = _resolve(resource["Properties"], stage, arns)
            if visibility_timeout is not None:
                props["VisibilityTimeout"] = visibility_timeout
            url, new = _create_queue(props)
            arns[logical] = client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            if new:
                created["queues"].append(props["QueueName"])
    return created


def _create_table(props: dict[str, Any]) -> bool:
    ddb = client("dynamodb")
    try:
        existing = ddb.describe_table(TableName=props["TableName"])["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        existing = None
    if existing is not None:
        _add_missing_indexes(props, existing)
        return False
    params = {k: props[k] for k in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode")}
    if "GlobalSecondaryIndexes" in props:
        params["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    ddb.create_table(**params)
    ddb.get_waiter("table_exists").wait(TableName=props["TableName"], WaiterConfig={"Delay": 1})
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
    return True


def _add_missing_indexes(props: dict[str, Any], existing: dict[str, Any]) -> None:
    """A persistent local table (make run) gets indexes added to the template
    since it was created, one at a time as DynamoDB requires."""
    ddb = client("dynamodb")
    have = {i["IndexName"] for i in existing.get("GlobalSecondaryIndexes", [])}
    for index in props.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        ddb.update_table(TableName=props["TableName"], AttributeDefinitions=props["AttributeDefinitions"],
                         GlobalSecondaryIndexUpdates=[{"Create": index}])
        while True:
            table = ddb.describe_table(TableName=props["TableName"])["Table"]
            states = [i.get("IndexStatus") for i in table.get("GlobalSecondaryIndexes", [])]
            if all(state == "ACTIVE" for state in states):
                break
            time.sleep(0.2)


def _create_bucket(name: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=name)
        return False
    except Exception:
        s3.create_bucket(Bucket=name)
        return True


def _create_queue(props: dict[str, Any]) -> tuple[str, bool]:
    sqs = client("sqs")
    name = props["QueueName"]
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"], False
    except sqs.exceptions.QueueDoesNotExist:
        pass
    attributes: dict[str, str] = {
        k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], True


def connect_notifications(stage: str) -> dict[str, dict[str, Any]]:
    """Put the bucket notifications of the AWS stack on the emulator's
    buckets (a replace: safe on every start). Returns what was put, by bucket.
    S3 sends an s3:TestEvent to each queue when this is set, as AWS does."""
    configurations = notification_configurations(stage, _queue_arns(stage))
    for bucket, configuration in configurations.items():
        client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    return configurations


def disconnect_notifications(stage: str) -> None:
    """Remove the bucket notifications ``connect_notifications`` put (a
    benchmark that processes an inbox object in its own process pauses them,
    so the runtime's workers do not process the same object at once)."""
    for bucket in notification_configurations(stage, _queue_arns(stage)):
        client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})


def notification_configurations(stage: str, queue_arns: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The buckets' NotificationConfiguration of the packaged stack, turned
    from CloudFormation's shape into PutBucketNotificationConfiguration's.
    ``queue_arns`` maps queue logical ids to the emulator's ARNs."""
    from infra import integrations, stateful

    definition = stateful.load()
    resources = definition.resources
    configurations: dict[str, dict[str, Any]] = {}
    for logical, part in integrations.cdr_inbox_notification(definition).items():
        if resources.get(logical, {}).get("Type") != "AWS::S3::Bucket":
            continue  # the queue policy: moto does not check resource policies
        notification = _resolve(part.get("Properties", {}).get("NotificationConfiguration"), stage, queue_arns)
        if not notification:
            continue
        unsupported = set(notification) - {"QueueConfigurations"}
        if unsupported:
            # Lambda and SNS targets do not exist locally: say so rather than drop them.
            raise ValueError(f"{logical}: {', '.join(sorted(unsupported))} cannot be emulated locally")
        bucket = _resolve(resources[logical]["Properties"]["BucketName"], stage, queue_arns)
        configurations[bucket] = {"QueueConfigurations": [{
            "QueueArn": queue["Queue"],
            "Events": [queue["Event"]],
            **({"Filter": {"Key": {"FilterRules": queue["Filter"]["S3Key"]["Rules"]}}} if "Filter" in queue else {}),
        } for queue in notification["QueueConfigurations"]]}
    return configurations


def _queue_arns(stage: str) -> dict[str, str]:
    sqs = client("sqs")
    arns = {}
    for logical, resource in load_template()["Resources"].items():
        if resource["Type"] == "AWS::SQS::Queue":
            name = _resolve(resource["Properties"]["QueueName"], stage, {})
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arns
