"""The stateful resources of infra/resources.json, classified for packaging.

resources.json stays the single definition of tables, bucket and queues (the
local runtime creates the same ones); everything the AWS stack adds around
them is derived from here, so a new table or queue is picked up by the IAM
policy and the environment overrides without editing the packager.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "resources.json"

# The bucket's layout. tenants/<tenant>/ is the blob store
# (chalicelib/store/blobs.py); cdr-inbox/<tenant>/ is where CDR files are
# uploaded, which notifies the cdr-files queue (infra/integrations.py).
TENANT_PREFIX = "tenants/"
CDR_INBOX_PREFIX = "cdr-inbox/"
# Presigned uploads land here until their confirmation moves them under
# tenants/; a lifecycle rule of the bucket expires what is never confirmed.
PENDING_PREFIX = "pending/"
# Plain pieces of a big compressed CDR file wait here for their parts
# (chalicelib/store/calls.py: STAGED_PREFIX); a lifecycle rule expires leftovers.
CDR_STAGED_PREFIX = "cdr-staged/"

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
QUEUE = "AWS::SQS::Queue"


@dataclass(frozen=True)
class Stateful:
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> list[str]:
        return [name for name, resource in self.resources.items() if resource["Type"] == kind]

    def tables(self) -> list[str]:
        return self.of_type(TABLE)

    def index_names(self, table: str) -> list[str]:
        props = self.resources[table]["Properties"]
        indexes = props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", [])
        return [index["IndexName"] for index in indexes]

    def bucket(self) -> str:
        (name,) = self.of_type(BUCKET)  # the design has exactly one blob bucket
        return name

    def dead_letter_queues(self) -> list[str]:
        targets = []
        for name in self.of_type(QUEUE):
            redrive = self.resources[name]["Properties"].get("RedrivePolicy")
            if redrive:
                targets.append(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
        return targets

    def app_queues(self) -> list[str]:
        """Queues the application sends to and consumes (not dead-letter queues)."""
        dead = set(self.dead_letter_queues())
        return [name for name in self.of_type(QUEUE) if name not in dead]

    def physical_name(self, logical: str, stage: str) -> str:
        """The name a Fn::Sub-with-${Stage} name property resolves to for ``stage``."""
        props = self.resources[logical]["Properties"]
        for key in ("TableName", "QueueName", "BucketName"):
            if key in props:
                return props[key]["Fn::Sub"].replace("${Stage}", stage)
        raise KeyError(f"{logical} has no name property")

    def name_template(self, logical: str) -> str:
        """The raw Fn::Sub string of a resource's name (e.g. to build an ARN without GetAtt)."""
        props = self.resources[logical]["Properties"]
        for key in ("TableName", "QueueName", "BucketName"):
            if key in props:
                return props[key]["Fn::Sub"]
        raise KeyError(f"{logical} has no name property")


def load() -> Stateful:
    return Stateful(json.loads(TEMPLATE.read_text()))


def env_var_name(logical: str) -> str:
    """MainTable -> MAIN_TABLE, CdrFilesQueue -> CDR_FILES_QUEUE: the names in .chalice/config.json."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", logical).upper()
