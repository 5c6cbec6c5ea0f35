"""Fake AWS credentials and the functions' environment, set before anything imports
cloudsms: settings and table names are read once, at import."""

import os

import boto3
from moto import mock_aws

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # On, and set, so that nothing a test imports turns them off for the tests after
        # it (scripts/openapi.py sets a default): some tests read the metrics published.
        "POWERTOOLS_METRICS_DISABLED": "false",
        "POWERTOOLS_METRICS_NAMESPACE": "CloudSMS",
        "POWERTOOLS_SERVICE_NAME": "cloudsms",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # As the local stack: the tests' callback receivers listen on this machine.
        "CALLBACK_LOOPBACK_ALLOWED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from cloudsms_local import iam, moto_patches  # noqa: E402
from cloudsms_local.template import create_resources  # noqa: E402

moto_patches.apply()

# The environment the template gives the functions, with names as the tests create them.
with mock_aws():
    _resources = create_resources(
        boto3.Session(),
        api_urls={"Api": "http://api.test"},
        function_url_base="http://receipts.test",
    )
os.environ.update(_resources.environment)
# A handler's requests are refused unless its policies in the template allow them, as in
# AWS (moto does not check IAM). Every test creates the same names, so these hold for all.
iam.enforce(_resources.functions, _resources.policies)
