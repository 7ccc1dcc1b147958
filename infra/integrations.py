"""Resources that connect AWS services to the app's functions.

- Audit log shipping: with AUDIT_SINK=log the API function prints one JSON
  line per request (chalicelib/services/common/audit.py); a subscription filter on
  its log group delivers those lines to the audit_ingest function.
- CDR inbox: S3 notifies the cdr-files queue of objects created under
  cdr-inbox/ (Chalice cannot package S3 event handlers for CloudFormation).
"""
from __future__ import annotations

from typing import Any

from chalicelib.services.common.audit import AUDIT_MARKER
from infra import chalice_output
from infra.stateful import CDR_INBOX_PREFIX, Stateful

# Matches exactly the lines chalicelib.services.common.audit.record prints.
AUDIT_FILTER_PATTERN = f"{{ $.{AUDIT_MARKER}.tenantId = * }}"
AUDIT_INGEST = "audit_ingest"
CDR_QUEUE = "CdrFilesQueue"


def audit_shipping(sam: dict[str, Any], *, api_logs: str) -> dict[str, Any]:
    """API log group (resource ``api_logs``) -> subscription filter -> audit_ingest."""
    ingest = chalice_output.lambda_function(sam, AUDIT_INGEST)
    return {
        "AuditLogsInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": [ingest.logical_id, "Arn"]},
                "Principal": "logs.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {"Fn::GetAtt": [api_logs, "Arn"]},
            },
        },
        "AuditLogSubscription": {
            "Type": "AWS::Logs::SubscriptionFilter",
            # CloudWatch Logs test-invokes the destination on creation.
            "DependsOn": ["AuditLogsInvokePermission"],
            "Properties": {
                "LogGroupName": {"Ref": api_logs},
                "FilterPattern": AUDIT_FILTER_PATTERN,
                "DestinationArn": {"Fn::GetAtt": [ingest.logical_id, "Arn"]},
            },
        },
    }


def cdr_inbox_notification(stateful: Stateful) -> dict[str, Any]:
    """S3 key filters know only prefix and suffix, so CDR files land under a
    root prefix (cdr-inbox/<tenant>/...) rather than tenants/<tenant>/cdrs/."""
    bucket = stateful.bucket()
    # Built from the name, not GetAtt: the bucket depends on this policy (S3
    # checks it can send when the notification is set), so the policy must not
    # depend on the bucket.
    bucket_arn = {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{stateful.name_template(bucket)}"}
    return {
        "CdrFilesQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": CDR_QUEUE}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "BlobBucketNotifies",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": [CDR_QUEUE, "Arn"]},
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": bucket_arn},
                        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                    },
                }]},
            },
        },
        bucket: {
            "DependsOn": ["CdrFilesQueuePolicy"],
            "Properties": {"NotificationConfiguration": {"QueueConfigurations": [{
                "Event": "s3:ObjectCreated:*",
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": CDR_INBOX_PREFIX}]}},
                "Queue": {"Fn::GetAtt": [CDR_QUEUE, "Arn"]},
            }]}},
        },
    }
