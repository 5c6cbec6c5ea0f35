"""The upload bucket: number lists coming in, staged recipients going out, and prepared
log exports waiting to be downloaded.

Staged files are gzipped JSON lines, written through a temporary file and read as a
stream, so a 100,000-row list is never held in memory as one object.
"""

import gzip
import io
import json
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from botocore.exceptions import ClientError

from cloudsms.adapters.aws import client
from cloudsms.settings import get_settings

_ENCODER = json.JSONEncoder(ensure_ascii=False)
# Lines are compressed this many bytes at a time: a GzipFile.write for every line costs
# more than compressing it.
_CHUNK_BYTES = 65_536


def _bucket() -> str:
    return get_settings().upload_bucket


def put_bytes(key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    client("s3").put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


class TooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(f"{size:,} bytes")
        self.size = size


def get_bytes(key: str, max_bytes: int | None = None) -> bytes:
    """The object's bytes; one larger than `max_bytes` raises TooLarge unread.

    Its size is taken from the same answer as its bytes: an object replaced between a
    separate size check and the read would be read whatever its size.
    """
    answer = client("s3").get_object(Bucket=_bucket(), Key=key)
    body = answer["Body"]
    if max_bytes is not None and int(answer["ContentLength"]) > max_bytes:
        body.close()
        raise TooLarge(int(answer["ContentLength"]))
    return body.read()  # type: ignore[no-any-return]


def version_of(key: str) -> tuple[datetime, str]:
    """When the object was written, and its ETag: together they name one upload of it."""
    head = client("s3").head_object(Bucket=_bucket(), Key=key)
    return head["LastModified"], str(head["ETag"])


def exists(key: str) -> bool:
    try:
        client("s3").head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def delete(keys: list[str]) -> list[str]:
    """Deletes the objects (one not there is no error); returns those S3 did not delete."""
    if not keys:
        return []
    answer = client("s3").delete_objects(
        Bucket=_bucket(), Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
    )
    return [str(error["Key"]) for error in answer.get("Errors", [])]


def presigned_put(key: str, seconds: int) -> str:
    return client("s3").generate_presigned_url(  # type: ignore[no-any-return]
        "put_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds
    )


def upload_download(file: IO[bytes], key: str, content_type: str, filename: str) -> None:
    """A file to be downloaded (by `presigned_get`), saved under its own name."""
    client("s3").upload_fileobj(
        file,
        _bucket(),
        key,
        ExtraArgs={
            "ContentType": content_type,
            "ContentDisposition": f'attachment; filename="{filename}"',
        },
    )


def presigned_get(key: str, seconds: int) -> str:
    return client("s3").generate_presigned_url(  # type: ignore[no-any-return]
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds
    )


class JsonLinesWriter:
    """Collects records into a gzipped JSON-lines temporary file, then uploads it."""

    def __init__(self, key: str):
        self.key = key
        self.count = 0
        # Closed in upload() or discard(): the writer outlives any one `with` block.
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        # Staged files are read once or twice: compressing fast beats compressing small.
        self._gzip = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=1)
        self._lines: list[bytes] = []
        self._pending = 0

    def write(self, record: dict[str, Any]) -> None:
        self.write_line(_ENCODER.encode(record))

    def write_line(self, line: str) -> None:
        """A record the caller has already encoded as JSON, on one line."""
        data = line.encode() + b"\n"
        self._lines.append(data)
        self._pending += len(data)
        self.count += 1
        if self._pending >= _CHUNK_BYTES:
            self._compress()

    def _compress(self) -> None:
        self._gzip.write(b"".join(self._lines))
        self._lines.clear()
        self._pending = 0

    def upload(self) -> None:
        self._compress()
        self._gzip.close()
        self._file.seek(0)
        client("s3").upload_fileobj(self._file, _bucket(), self.key)
        self._file.close()

    def discard(self) -> None:
        self._gzip.close()
        self._file.close()


def read_json_lines(key: str) -> Iterator[dict[str, Any]]:
    body = client("s3").get_object(Bucket=_bucket(), Key=key)["Body"]
    with gzip.GzipFile(fileobj=body, mode="rb") as lines:
        for line in io.BufferedReader(lines):  # type: ignore[arg-type]
            yield json.loads(line)
