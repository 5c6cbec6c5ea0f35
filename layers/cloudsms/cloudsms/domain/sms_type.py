"""The portal's SMS types. Verify codes travel on a queue of their own."""

from enum import StrEnum


class SmsType(StrEnum):
    VERIFY_CODE = "verify_code"
    BUSINESS = "business"
    MARKETING = "marketing"
