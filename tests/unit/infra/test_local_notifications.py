"""The local runtime's S3 -> SQS notifications come from the same definition
as the AWS stack's (infra/integrations.py), in PutBucketNotificationConfiguration's
shape. (Delivery through moto's S3 is tested over HTTP in
tests/integration/carrier/test_cdr_upload.py.)"""
from __future__ import annotations

from infra import integrations, stateful
from infra.local import resources
from infra.local.environment import stage_variables

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:dialtone-local-cdr-files"


def test_local_notifications_are_the_packaged_ones() -> None:
    configurations = resources.notification_configurations("local", {integrations.CDR_QUEUE: QUEUE_ARN})
    # The bucket the app uses on the local stage, one queue target.
    assert list(configurations) == [stage_variables()["BLOB_BUCKET"]]
    (queue,) = configurations[stage_variables()["BLOB_BUCKET"]]["QueueConfigurations"]
    assert queue == {
        "QueueArn": QUEUE_ARN,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": stateful.CDR_INBOX_PREFIX}]}},
    }


def test_the_packaged_bucket_notification_is_what_is_translated() -> None:
    # If the package step's definition changes (another event, another
    # prefix), the local one follows: both read integrations.cdr_inbox_notification.
    definition = stateful.load()
    packaged = integrations.cdr_inbox_notification(definition)[definition.bucket()]
    (queue,) = packaged["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    local = resources.notification_configurations("local", {integrations.CDR_QUEUE: QUEUE_ARN})
    (translated,) = next(iter(local.values()))["QueueConfigurations"]
    assert translated["Events"] == [queue["Event"]]
    assert translated["Filter"]["Key"]["FilterRules"] == queue["Filter"]["S3Key"]["Rules"]
