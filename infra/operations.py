"""What the AWS stack adds for its operators (issue 15, "Operable"):

- point-in-time recovery on every table, and deletion protection on the
  stages that hold real data (staging, prod), so neither a stack deletion
  nor a stray DeleteTable loses it;
- an alarm on every dead-letter queue: any message there is a message no
  consumer could process (an order, a CDR file, an invoice job);
- an alarm on the API's 5xx rate (5XXError / Count over five minutes).

Alarms have no actions here: each installation subscribes its own SNS topic
or pager (AlarmActions) without editing the packager.
"""
from __future__ import annotations

from typing import Any

from infra.stateful import Stateful

PROTECTED_STAGES = ("staging", "prod")
API_5XX_RATE = 0.05  # of requests in five minutes
API_5XX_MIN_REQUESTS = 20  # fewer requests say nothing about a rate


def table_protection(stateful: Stateful, stage: str) -> dict[str, Any]:
    return {table: {"Properties": {
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": stage in PROTECTED_STAGES,
    }} for table in stateful.tables()}


def alarms(stateful: Stateful, sam: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for queue in stateful.dead_letter_queues():
        found[f"{queue}Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": f"${{AWS::StackName}}-{queue}"},
            "AlarmDescription": "A message reached a dead-letter queue: no consumer could process it "
                                "(docs/deploy.md: Alarms).",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        }}
    api = sam.get("Resources", {}).get("RestAPI")
    if api:
        props = api["Properties"]
        dimensions = [{"Name": "ApiName", "Value": props["DefinitionBody"]["info"]["title"]},
                      {"Name": "Stage", "Value": props["StageName"]}]

        def metric(ident: str, name: str) -> dict[str, Any]:
            return {"Id": ident, "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": name, "Dimensions": dimensions},
                "Period": 300, "Stat": "Sum"}}

        found["Api5xxRateAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": "${AWS::StackName}-api-5xx-rate"},
            "AlarmDescription": f"More than {API_5XX_RATE:.0%} of API requests answered 5xx in five minutes.",
            "Metrics": [metric("errors", "5XXError"), metric("requests", "Count"), {
                "Id": "rate", "ReturnData": True, "Label": "5xx rate",
                "Expression": f"IF(requests >= {API_5XX_MIN_REQUESTS}, errors / requests, 0)"}],
            "EvaluationPeriods": 1, "Threshold": API_5XX_RATE,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        }}
    return found
