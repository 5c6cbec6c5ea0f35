"""boto3 clients, made once per process and pointed at the emulator when one is set."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from cloudsms.settings import get_settings

# Presigned URLs (number-list uploads, export downloads) signed with Signature Version 4:
# S3 has deprecated version 2, which botocore still uses for them by default.
_CONFIGS = {"s3": Config(signature_version="s3v4")}


@cache
def client(service: str) -> Any:
    settings = get_settings()
    return boto3.client(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        config=_CONFIGS.get(service),
    )
