"""The hand-written least-privilege policy of every Dialtone function role.

`"autogen_policy": false` in .chalice/config.json stops Chalice guessing a
policy from the boto3 calls it sees; this module is what replaces it. Each
statement has a Sid and a reason (REASONS): IAM refuses unknown keys in a
statement, so the reasons travel in the role's Metadata and docs/deploy.md.

Every function gets the same data permissions (the package is one code base:
any function can import any service) and may write only its own log group.
"""
from __future__ import annotations

from typing import Any

from infra.stateful import CDR_INBOX_PREFIX, CDR_STAGED_PREFIX, PENDING_PREFIX, TENANT_PREFIX, Stateful

# No dynamodb:Scan (DESIGN.md: every list is a Query) and no
# dynamodb:TransactWriteItems: IAM has no such action; a transaction is
# authorised by the Put/Update/Delete/ConditionCheck of each of its items.
TABLE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Query",
]
QUEUE_ACTIONS = [
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]

REASONS = {
    "Tables": "Items of the three tables and Query on their named indexes; no Scan (DESIGN.md), "
              "transactions are authorised per item action.",
    "TenantObjects": "Blob store under tenants/<tenant>/ (chalicelib/store/blobs.py): put, get, head, delete, "
                     "and signing presigned GET/POST URLs, which act with this role's permissions. "
                     "PutObjectTagging: a client's file is PUT with the tag dialtone-upload=pending (a PutObject "
                     "carrying tags needs it) until its record is written, then retagged recorded, so the "
                     "lifecycle rule ExpireUnrecordedUploads removes only files no record names "
                     "(chalicelib/store/pending_files.py); no Get/DeleteObjectTagging: the functions never read "
                     "or remove tags.",
    "PendingUploads": "Presigned uploads wait under pending/tenants/<tenant>/ until confirmed (signing the POST "
                      "needs PutObject); then they are copied under tenants/ and deleted "
                      "(chalicelib/store/pending_files.py).",
    "CdrInboxObjects": "CDR ingestion reads a file that landed under cdr-inbox/ and removes it once ingested; "
                       "PutObject because the presigned POST of carrier cdr_upload acts with this role's "
                       "permissions (the service names the caller's own cdr-inbox/<tenant>/ in the signed key).",
    "CdrStagedPieces": "A compressed CDR file too big for one function is decoded once and restaged as plain "
                       "pieces under cdr-staged/ (outside the notified inbox), each read by its part's function "
                       "and removed when that part is recorded.",
    "BucketListingForNotFound": "S3 answers HeadObject/GetObject on a missing key with 403 instead of 404 unless "
                                "the caller may ListBucket; blobs.head() relies on the 404. A s3:prefix condition "
                                "would not help: HeadObject requests carry no s3:prefix.",
    "AppQueues": "Send orders and CDR jobs, and let SQS event source mappings poll, delete and extend "
                 "visibility; dead-letter queues are left to operators.",
    "OwnLogGroup": "Write this function's log streams; the log group is created by the stack, so "
                   "logs:CreateLogGroup is not granted.",
    "SendEmail": "Registration, confirmation and password-reset mails through SES (adapters/mail.py), only from "
                 "the stage's EMAIL_FROM: the identity of its address and of its domain, and the "
                 "ses:FromAddress condition.",
    "StageSecrets": "Read the stage's secrets at first use (adapters/parameters.py): exactly the SSM parameters "
                    "named by its *_PARAMETER variables; SecureStrings under the AWS managed key aws/ssm "
                    "need no kms:Decrypt.",
}
# Statements present only when the stage's environment calls for them.
OPTIONAL = ("SendEmail", "StageSecrets")


def document(stateful: Stateful, log_groups: list[str], environment: dict[str, str] | None = None) -> dict[str, Any]:
    """Policy document for a role whose functions log to the ``log_groups`` resources
    and run with the stage's ``environment`` (EMAIL_FROM, *_PARAMETER)."""
    bucket = stateful.bucket()
    statements = [
        _statement("Tables", TABLE_ACTIONS, _table_arns(stateful)),
        _statement("TenantObjects", ["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"],
                   [{"Fn::Sub": f"${{{bucket}.Arn}}/{TENANT_PREFIX}*"}]),
        _statement("PendingUploads", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                   [{"Fn::Sub": f"${{{bucket}.Arn}}/{PENDING_PREFIX}*"}]),
        _statement("CdrInboxObjects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                   [{"Fn::Sub": f"${{{bucket}.Arn}}/{CDR_INBOX_PREFIX}*"}]),
        _statement("CdrStagedPieces", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                   [{"Fn::Sub": f"${{{bucket}.Arn}}/{CDR_STAGED_PREFIX}*"}]),
        _statement("BucketListingForNotFound", ["s3:ListBucket"], [{"Fn::GetAtt": [bucket, "Arn"]}]),
        _statement("AppQueues", QUEUE_ACTIONS, [{"Fn::GetAtt": [q, "Arn"]} for q in stateful.app_queues()]),
        # A log group's Arn attribute ends in ":*", which covers its streams.
        _statement("OwnLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents"],
                   [{"Fn::GetAtt": [group, "Arn"]} for group in log_groups]),
    ]
    environment = environment or {}
    sender = environment.get("EMAIL_FROM", "")
    if "@" in sender and environment.get("EMAIL_SENDER", "ses") == "ses":
        domain = sender.rsplit("@", 1)[1]
        identity = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
        statement = _statement("SendEmail", ["ses:SendEmail"],
                               [{"Fn::Sub": identity + domain}, {"Fn::Sub": identity + sender}])
        statement["Condition"] = {"StringEquals": {"ses:FromAddress": sender}}
        statements.append(statement)
    parameters = sorted(v for k, v in environment.items() if k.endswith("_PARAMETER") and v.startswith("/"))
    if parameters:
        statements.append(_statement("StageSecrets", ["ssm:GetParameter"], [
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + name}
            for name in parameters]))
    return {"Version": "2012-10-17", "Statement": statements}


def reasons(document_: dict[str, Any]) -> dict[str, str]:
    """The reasons of the statements a document holds (for the role's Metadata)."""
    return {s["Sid"]: REASONS[s["Sid"]] for s in document_["Statement"]}


def _table_arns(stateful: Stateful) -> list[Any]:
    arns: list[Any] = []
    for table in stateful.tables():
        arns.append({"Fn::GetAtt": [table, "Arn"]})
        # Each index by name (from resources.json) rather than index/*.
        arns.extend({"Fn::Sub": f"${{{table}.Arn}}/index/{index}"} for index in stateful.index_names(table))
    return arns


def _statement(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
