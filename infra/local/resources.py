"""Create the resources of infra/resources.json on an emulator.

The same CloudFormation definitions that the AWS stack deploys are read here
and turned into CreateTable / CreateBucket / CreateQueue calls, so the local
runtime and the tests cannot drift from production's key schemas and indexes.
Pseudo parameters resolve to a fixed fake account and us-east-1.
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


def create_all(stage: str) -> dict[str, list[str]]:
    """Create every table, bucket and queue of the template that is missing.
    Returns what was created, by kind. Safe to run on every start."""
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
    attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], True
