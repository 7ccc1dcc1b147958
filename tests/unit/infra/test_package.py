"""AWS packaging (infra/package.py): the stack of a stage lints clean, its IAM
is least-privilege, its queues and event sources are wired for partial batch
failures, and the deployment zip ships bytecode.

Each packaging runs once per module: 5-10 s with the dependency cache in
out/.cache, about 15 s more on a machine's first run (Lambda wheels download).
"""
from __future__ import annotations

import json
import marshal
import py_compile
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from infra import bytecode, merge_template, package, stateful

ROOT = Path(__file__).resolve().parents[3]
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
BROAD_ACTIONS = {"*", "dynamodb:*", "s3:*", "sqs:*", "logs:*", "dynamodb:Scan"}

# Stands in for the handlers that issues will add: SQS consumers on the two
# queues (by name and by ARN, the two ways Chalice accepts), a schedule.
SQS_SAMPLE_APP = '''
from chalice import Chalice

app = Chalice(app_name="dialtone")


@app.route("/")
def index():
    return {}


@app.lambda_function(name="audit_ingest")
def audit_ingest(event, context):
    return {}


@app.on_sqs_message(queue="dialtone-dev-orders", batch_size=10)
def orders(event):
    return None


@app.on_sqs_message(queue_arn="arn:aws:sqs:us-east-1:123456789012:dialtone-dev-cdr-files", batch_size=1)
def cdr_files(event):
    return None


@app.schedule("rate(1 day)")
def nightly(event):
    return None
'''


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> package.Result:
    return package.package("dev", tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="module")
def template(dev: package.Result) -> dict[str, Any]:
    return json.loads((dev.out / "sam.json").read_text())


@pytest.fixture(scope="module")
def sqs_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("sqs-sample")
    # A fresh line per run: the zip must carry this code, not a cached build's.
    (project / "app.py").write_text(f"{SQS_SAMPLE_APP}\n# build {uuid.uuid4()}\n")
    (project / "requirements.txt").write_text("")
    (project / ".chalice").mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", project / ".chalice" / "config.json")
    return project


@pytest.fixture(scope="module")
def sqs_sample(sqs_project: Path, tmp_path_factory: pytest.TempPathFactory) -> package.Result:
    return package.package("dev", tmp_path_factory.mktemp("sqs-sample-out"), project_dir=sqs_project)


@pytest.fixture(scope="module")
def sqs_template(sqs_sample: package.Result) -> dict[str, Any]:
    return json.loads((sqs_sample.out / "sam.json").read_text())


def _lint(path: Path) -> None:
    done = subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every statement of every policy document anywhere in the template."""
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            yield from node["Statement"]
        for value in node.values():
            yield from _statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from _statements(value)


def _references(node: Any) -> set[str]:
    """Logical ids a template fragment refers to (Ref, Fn::GetAtt, ${X} / ${X.Attr} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text))
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sqs_events(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [event for function in _of_type(template, "AWS::Serverless::Function").values()
            for event in function["Properties"].get("Events", {}).values() if event["Type"] == "SQS"]


def test_dev_template_passes_cfn_lint(dev: package.Result) -> None:
    _lint(dev.out / "sam.json")


def test_template_with_sqs_handlers_passes_cfn_lint(sqs_sample: package.Result) -> None:
    _lint(sqs_sample.out / "sam.json")


def test_no_iam_statement_is_broad(template: dict[str, Any]) -> None:
    statements = list(_statements(template))
    assert len(statements) > 10
    for statement in statements:
        actions = set(_as_list(statement.get("Action", [])))
        assert not actions & BROAD_ACTIONS, statement
        assert "*" not in _as_list(statement.get("Resource", [])), statement


def test_every_function_role_has_the_hand_written_policy(template: dict[str, Any]) -> None:
    for name, role in _of_type(template, "AWS::IAM::Role").items():
        (policy,) = role["Properties"]["Policies"]
        sids = {s["Sid"] for s in policy["PolicyDocument"]["Statement"]}
        assert {"Tables", "TenantObjects", "AppQueues", "OwnLogGroup"} <= sids, name
        assert set(role["Metadata"]["PermissionReasons"]) == sids, name


def test_roles_may_send_mail_and_read_their_stage_secrets_only(template: dict[str, Any]) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]["environment_variables"]
    for name, role in _of_type(template, "AWS::IAM::Role").items():
        statements = {s["Sid"]: s for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
        mail = statements["SendEmail"]
        assert mail["Action"] == ["ses:SendEmail"] and mail["Condition"] == {
            "StringEquals": {"ses:FromAddress": config["EMAIL_FROM"]}}, name
        assert all(":identity/" in r["Fn::Sub"] for r in mail["Resource"]), name
        secrets = statements["StageSecrets"]
        assert secrets["Action"] == ["ssm:GetParameter"], name
        assert sorted(r["Fn::Sub"].split(":parameter", 1)[1] for r in secrets["Resource"]) == sorted(
            [config["LINK_SIGNING_SECRET_PARAMETER"], config["RECAPTCHA_SECRET_PARAMETER"],
             config["TOTP_SEALING_KEY_PARAMETER"], config["VOICE_JWT_KEYS_PARAMETER"]]), name
    # never a value in config
    assert not {"LINK_SIGNING_SECRET", "RECAPTCHA_SECRET", "TOTP_SEALING_KEY"} & set(config)


def test_every_queue_has_a_redrive_policy_or_is_a_dead_letter_queue(template: dict[str, Any]) -> None:
    queues = _of_type(template, "AWS::SQS::Queue")
    dead = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    assert dead
    for name, queue in queues.items():
        assert "RedrivePolicy" in queue["Properties"] or name in dead, name


def test_every_sqs_event_source_reports_batch_item_failures(
        template: dict[str, Any], sqs_template: dict[str, Any]) -> None:
    events = _sqs_events(template) + _sqs_events(sqs_template)
    assert len(events) >= 2  # the sample's two consumers at least
    for event in events:
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # The stack's queue, so the mapping waits for it.
        assert event["Properties"]["Queue"] in ({"Fn::Sub": "${OrdersQueue.Arn}"}, {"Fn::Sub": "${CdrFilesQueue.Arn}"},
                                              {"Fn::Sub": "${InvoiceJobsQueue.Arn}"},
                                              {"Fn::Sub": "${VoiceCallsQueue.Arn}"},
                                              {"Fn::Sub": "${VoiceWebhooksQueue.Arn}"})


def test_deployment_zip_ships_bytecode_for_the_app(dev: package.Result) -> None:
    with zipfile.ZipFile(dev.out / "deployment.zip") as archive:
        names = set(archive.namelist())
    sources = [n for n in names if n == "app.py" or (n.startswith("chalicelib/") and n.endswith(".py"))]
    assert "__pycache__/app.cpython-311.pyc" in names
    assert len(sources) > 10
    for source in sources:
        assert bytecode.pyc_name(source) in names, source
    assert dev.bytecode.size_after > dev.bytecode.size_before


# Lambda's hard quota: a function's code unzipped, layers included, may not
# exceed 250 MB (262,144,000 bytes). Every function ships this one zip.
LAMBDA_UNZIPPED_LIMIT = 262_144_000


def test_deployment_zip_fits_lambdas_unzipped_size_quota(dev: package.Result) -> None:
    with zipfile.ZipFile(dev.out / "deployment.zip") as archive:
        unzipped = sum(entry.file_size for entry in archive.infolist())
    assert unzipped < LAMBDA_UNZIPPED_LIMIT, f"{unzipped:,} bytes unzipped"


def test_bytecode_is_what_py_compile_writes_unchecked(dev: package.Result, tmp_path: Path) -> None:
    with zipfile.ZipFile(dev.out / "deployment.zip") as archive:
        (tmp_path / "app.py").write_bytes(archive.read("app.py"))
        shipped = archive.read("__pycache__/app.cpython-311.pyc")
    expected = py_compile.compile(str(tmp_path / "app.py"), dfile="app.py", doraise=True, optimize=0,
                                  invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    written = Path(expected).read_bytes()
    # Header: magic, flags (unchecked hash) and the source's hash, byte for byte.
    assert shipped[:16] == written[:16]
    # Body: the same code object. Not compared byte for byte: marshal marks a
    # string as shared only when the compiling process holds other references
    # to it, so two processes write the same code with different flag bits
    # (CI saw b'\xda' against b'\xfa' for the interned 'app.py').
    shipped_code, written_code = marshal.loads(shipped[16:]), marshal.loads(written[16:])
    assert shipped_code == written_code
    assert shipped_code.co_filename == written_code.co_filename == "app.py"


def test_functions_use_the_stacks_resource_names(template: dict[str, Any]) -> None:
    config_env = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]["environment_variables"]
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert set(variables) == set(config_env), name
        assert variables["BLOB_BUCKET"] == {"Ref": "BlobBucket"}
        assert variables["MAIN_TABLE"] == {"Ref": "MainTable"}
        assert variables["CDR_FILES_QUEUE"] == {"Fn::GetAtt": ["CdrFilesQueue", "QueueName"]}


def test_every_function_gives_up_on_aws_before_its_caller_does(template: dict[str, Any]) -> None:
    """API Gateway abandons the API function at 29 s (a 504 that is not ours):
    one AWS call that never answers must end in the function's own 503 first,
    with time left for the rest of the request. A worker must give up within
    its Lambda timeout, so SQS redelivers the message."""
    from chalicelib.store.clients import call_timeouts, worst_call_seconds

    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        props = function["Properties"]
        worst = worst_call_seconds(call_timeouts(props["Environment"]["Variables"].get("AWS_CALL_TIMEOUTS", "")))
        if name == "APIHandler":
            assert worst <= 24, worst
        else:
            assert worst < props["Timeout"], (name, worst)


def test_audit_lines_ship_from_the_api_log_group_to_audit_ingest(template: dict[str, Any]) -> None:
    (subscription,) = _of_type(template, "AWS::Logs::SubscriptionFilter").values()
    props = subscription["Properties"]
    assert "dialtone_audit" in props["FilterPattern"]
    assert props["DestinationArn"] == {"Fn::GetAtt": ["AuditIngest", "Arn"]}
    group = template["Resources"][props["LogGroupName"]["Ref"]]["Properties"]
    api_name = template["Resources"]["APIHandler"]["Properties"]["FunctionName"]["Fn::Sub"]
    assert group == {"LogGroupName": {"Fn::Sub": f"/aws/lambda/{api_name}"}, "RetentionInDays": 30}
    permission = template["Resources"][subscription["DependsOn"][0]]["Properties"]
    assert permission["Principal"] == "logs.amazonaws.com"


def test_api_gateway_logs_no_credential(template: dict[str, Any]) -> None:
    """Execution logs with data tracing print whole requests (Authorization
    headers, the carrier API's token= query parameter) to CloudWatch; an access
    log format may name only $context fields, none of which holds a query
    string, a header or a body (issue 15)."""
    apis = {**_of_type(template, "AWS::Serverless::Api"), **_of_type(template, "AWS::ApiGateway::Stage"),
            **_of_type(template, "AWS::ApiGateway::RestApi")}
    assert apis, "the template has no API"
    for logical, resource in apis.items():
        props = resource.get("Properties", {})
        for setting in _as_list(props.get("MethodSettings", [])):
            assert not setting.get("DataTraceEnabled"), logical
        access_format = json.dumps((props.get("AccessLogSetting") or {}).get("Format", ""))
        assert "$input" not in access_format and "$method.request" not in access_format, logical
        assert not re.search(r"(?i)querystring|header|requestoverride|authorizer\.token|identity\.apikey",
                             access_format), logical


def test_every_table_has_point_in_time_recovery_and_dev_no_deletion_protection(template: dict[str, Any]) -> None:
    tables = _of_type(template, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["DeletionProtectionEnabled"] is False, name  # dev: protected only on staging and prod


def test_staging_and_prod_tables_are_protected_from_deletion() -> None:
    from infra import operations

    definition = stateful.load()
    for stage in ("staging", "prod"):
        protected = operations.table_protection(definition, stage)
        assert set(protected) == set(definition.tables())
        assert all(p["Properties"]["DeletionProtectionEnabled"] is True for p in protected.values()), stage


def test_every_dead_letter_queue_and_the_api_5xx_rate_have_an_alarm(template: dict[str, Any]) -> None:
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for a in alarms.values() if a["Properties"].get("Namespace") == "AWS/SQS"}
    assert watched == set(stateful.load().dead_letter_queues()) and watched
    rate = alarms["Api5xxRateAlarm"]["Properties"]
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m}
    assert names == {"5XXError", "Count"}
    dimensions = rate["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"]
    api = template["Resources"]["RestAPI"]["Properties"]
    assert dimensions == [{"Name": "ApiName", "Value": api["DefinitionBody"]["info"]["title"]},
                          {"Name": "Stage", "Value": api["StageName"]}]


def test_cdr_inbox_notifies_the_cdr_queue_without_a_cycle(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["BlobBucket"]
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "cdr-inbox/"}]
    assert notification["Queue"] == {"Fn::GetAtt": ["CdrFilesQueue", "Arn"]}
    policy = template["Resources"][bucket["DependsOn"][0]]
    assert policy["Type"] == "AWS::SQS::QueuePolicy"
    assert "BlobBucket" not in _references(policy)  # the bucket depends on it, so no reference back


def test_roles_may_sign_uploads_into_the_cdr_inbox(template: dict[str, Any]) -> None:
    # A presigned POST acts with the signer's permissions: without PutObject
    # on cdr-inbox/* the cdr_upload URL would be refused by S3.
    for name, role in _of_type(template, "AWS::IAM::Role").items():
        statements = {s["Sid"]: s for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
        inbox = statements["CdrInboxObjects"]
        assert "s3:PutObject" in inbox["Action"], name
        assert inbox["Resource"] == [{"Fn::Sub": "${BlobBucket.Arn}/cdr-inbox/*"}], name


def test_merge_left_no_intrinsic_mixed_with_another(template: dict[str, Any], sqs_template: dict[str, Any]) -> None:
    # Chalice's deep merge combines dicts key by key: an intrinsic merged over
    # a different one would become {"Fn::Sub": ..., "Fn::GetAtt": ...}.
    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for node in list(walk(template)) + list(walk(sqs_template)):
        intrinsics = [k for k in node if k == "Ref" or k.startswith("Fn::")]
        assert not intrinsics or len(node) == 1, node


def test_zip_carries_the_current_code_not_a_cached_build(sqs_sample: package.Result, sqs_project: Path) -> None:
    # infra/dependency_cache.py reuses the dependencies of an earlier build.
    with zipfile.ZipFile(sqs_sample.out / "deployment.zip") as archive:
        assert archive.read("app.py").decode() == (sqs_project / "app.py").read_text()


def test_sample_handlers_resolve(sqs_sample: package.Result) -> None:
    assert sqs_sample.unresolved_handlers == []


def test_dev_handlers_resolve(dev: package.Result) -> None:
    assert dev.unresolved_handlers == []


def _sam(environment: dict[str, str], events: dict[str, Any] | None = None, timeout: int = 30) -> dict[str, Any]:
    function = {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "app.app", "Runtime": "python3.11", "Timeout": timeout,
        "Role": {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]},
        "Environment": {"Variables": environment}, "Events": events or {}}}
    return {"Resources": {"APIHandler": function, "AuditIngest": {**function, "Properties": {
        **function["Properties"], "Handler": "app.audit_ingest", "Events": {}}}}}


def test_local_only_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="AWS_ENDPOINT_URL_S3"):
        merge_template.build(stage="dev", app_name="dialtone", stateful=stateful.load(),
                             sam=_sam({"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8002"}))


def test_consuming_a_queue_the_stack_does_not_define_is_refused() -> None:
    event = {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:1:someone-elses-queue"}}
    with pytest.raises(ValueError, match="someone-elses-queue"):
        merge_template.build(stage="dev", app_name="dialtone", stateful=stateful.load(),
                             sam=_sam({}, {"Other": event}))


def test_queue_that_would_redeliver_during_processing_is_refused() -> None:
    event = {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:1:dialtone-dev-orders"}}
    with pytest.raises(ValueError, match="VisibilityTimeout"):
        merge_template.build(stage="dev", app_name="dialtone", stateful=stateful.load(),
                             sam=_sam({}, {"Orders": event}, timeout=900))


def test_unconfirmed_presigned_uploads_expire_after_a_day(template: dict[str, Any]) -> None:
    """Presigned uploads land under pending/ (chalicelib/store/blobs.py) until
    confirmed; the bucket's lifecycle expires what stays there, versions too."""
    from infra.stateful import CDR_STAGED_PREFIX, PENDING_PREFIX, TENANT_PREFIX

    (bucket,) = _of_type(template, "AWS::S3::Bucket").values()
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    expire = rules["ExpireUnconfirmedPresignedUploads"]
    assert (expire["Status"], expire["Prefix"], expire["ExpirationInDays"]) == ("Enabled", PENDING_PREFIX, 1)
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}  # the bucket is versioned
    assert rules["RemovePendingDeleteMarkers"]["ExpiredObjectDeleteMarker"] is True
    assert {r["Prefix"] for r in rules.values()} == {PENDING_PREFIX, CDR_STAGED_PREFIX, TENANT_PREFIX}
    # Tenants' files never expire, unless still tagged as an upload no record
    # names (store/pending_files.py); their replaced or deleted versions do, after 30 days.
    tenant_rules = [r for r in rules.values() if r["Prefix"] == TENANT_PREFIX]
    assert [r["Id"] for r in tenant_rules if "ExpirationInDays" in r] == ["ExpireUnrecordedUploads"]
    unrecorded = rules["ExpireUnrecordedUploads"]
    assert unrecorded["TagFilters"] == [{"Key": "dialtone-upload", "Value": "pending"}]
    assert (unrecorded["Status"], unrecorded["ExpirationInDays"]) == ("Enabled", 1)
    assert unrecorded["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rules["ExpireReplacedTenantFileVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rules["RemoveTenantDeleteMarkers"]["ExpiredObjectDeleteMarker"] is True
    for role in _of_type(template, "AWS::IAM::Role").values():
        statements = {s["Sid"]: s for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
        assert statements["PendingUploads"]["Resource"][0]["Fn::Sub"].endswith("/" + PENDING_PREFIX + "*")
        # PutObject with tags needs PutObjectTagging; retagging too. Nothing reads or removes tags.
        tenant_actions = statements["TenantObjects"]["Action"]
        assert "s3:PutObjectTagging" in tenant_actions
        assert not {"s3:GetObjectTagging", "s3:DeleteObjectTagging"} & set(tenant_actions)


def test_leftover_staged_cdr_pieces_expire_and_roles_may_use_them(template: dict[str, Any]) -> None:
    """A big compressed CDR file is restaged as plain pieces under cdr-staged/
    (chalicelib/store/calls.py); each part removes its piece, and the lifecycle
    removes what a failed part leaves, old versions too."""
    from chalicelib.store import calls as cdrs
    from infra.stateful import CDR_STAGED_PREFIX

    assert cdrs.STAGED_PREFIX == CDR_STAGED_PREFIX
    (bucket,) = _of_type(template, "AWS::S3::Bucket").values()
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    expire = rules["ExpireLeftoverStagedCdrPieces"]
    assert (expire["Status"], expire["Prefix"], expire["ExpirationInDays"]) == ("Enabled", CDR_STAGED_PREFIX, 7)
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rules["RemoveStagedDeleteMarkers"]["ExpiredObjectDeleteMarker"] is True
    for name, role in _of_type(template, "AWS::IAM::Role").items():
        statements = {s["Sid"]: s for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
        staged = statements["CdrStagedPieces"]
        assert sorted(staged["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], name
        assert staged["Resource"] == [{"Fn::Sub": "${BlobBucket.Arn}/cdr-staged/*"}], name
