"""boto3 clients, made once per process and pointed at the emulator when one is set."""

from functools import cache
from typing import Any

import boto3

from cloudsms.settings import get_settings


@cache
def client(service: str) -> Any:
    settings = get_settings()
    return boto3.client(
        service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )
