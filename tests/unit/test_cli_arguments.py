"""The console command's arguments: `--local` with or without a state file."""

import argparse
import io
from pathlib import Path

import pytest

from cloudsms import cli


def _parsed(*words: str) -> argparse.Namespace:
    parser = cli._parser()
    return parser.parse_args(cli._with_state_file(list(words), cli._commands(parser)))


def test_local_alone_before_the_command_means_the_default_state_file():
    args = _parsed("--local", "tenant-create", "acme", "--name", "Acme")

    assert (args.local, args.command, args.tenant_id) == (
        Path(".local/stack.json"),
        "tenant-create",
        "acme",
    )


def test_local_takes_a_state_file():
    args = _parsed("--local", "/tmp/stack.json", "key-list", "acme")

    assert (args.local, args.command) == (Path("/tmp/stack.json"), "key-list")


def test_a_tenant_named_like_a_command_is_still_a_tenant():
    args = _parsed("--local", "/tmp/stack.json", "key-list", "key-list")

    assert args.tenant_id == "key-list"


def test_a_channels_receipt_secret_comes_from_a_file_or_is_generated_anew(tmp_path):
    secret_file = tmp_path / "receipt-secret"
    secret_file.write_text("the-hubs-fixed-callback-secret\n")

    added = _parsed(
        "channel-add",
        "HUB",
        "--type",
        "kannel",
        "--endpoint",
        "http://k:13013",
        "--username",
        "u",
        "--receipt-secret-file",
        str(secret_file),
    )
    renewed = _parsed("channel-update", "HUB", "--new-receipt-secret")
    unchanged = _parsed("channel-update", "HUB", "--throughput", "5")

    assert cli._channel_settings(added)["receipt_secret"] == "the-hubs-fixed-callback-secret"
    assert "new_receipt_secret" not in cli._channel_settings(added)
    assert cli._channel_settings(renewed) == {"new_receipt_secret": True}
    assert cli._channel_settings(unchanged) == {"throughput": 5}


def test_a_receipt_secret_file_that_cannot_be_read_is_named_in_a_refusal(tmp_path):
    import pytest

    from cloudsms.errors import BadRequest

    args = _parsed("channel-update", "HUB", "--receipt-secret-file", str(tmp_path / "none"))

    with pytest.raises(BadRequest, match="--receipt-secret-file: cannot read .*none"):
        cli._channel_settings(args)


def test_a_channel_added_without_a_terminal_needs_its_password_on_standard_input(
    monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    words = ["--local", "/nowhere/stack.json", "channel-add", "R1", "--type", "kannel"]

    with pytest.raises(SystemExit) as exit_:
        cli.main([*words, "--endpoint", "http://kannel:13013", "--username", "u"])

    assert exit_.value.code == 2
    assert "--password-stdin" in capsys.readouterr().err


def test_a_receipt_secret_file_that_is_not_text_is_named_in_a_refusal(tmp_path):
    from cloudsms.errors import BadRequest

    secret_file = tmp_path / "secret.bin"
    secret_file.write_bytes(b"\xff\xfe\x00binary")
    args = _parsed("channel-update", "HUB", "--receipt-secret-file", str(secret_file))

    with pytest.raises(BadRequest, match="--receipt-secret-file: .*secret.bin is not UTF-8 text"):
        cli._channel_settings(args)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "is not a local stack's state file: Expecting property name"),
        ('{"environment": {}}', "is not a local stack's state file: no 'aws_endpoint_url'"),
        ("[]", "is not a local stack's state file: list indices"),
        (None, "cannot read .*: Is a directory"),
    ],
)
def test_a_state_file_that_is_not_a_local_stacks_is_named_in_a_refusal(
    tmp_path, monkeypatch, content, reason
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://unchanged.test")  # restored afterwards
    state_file = tmp_path / "stack.json"
    if content is None:
        state_file.mkdir()
    else:
        state_file.write_text(content)

    with pytest.raises(SystemExit, match=f"^cloudsms: .*{reason}"):
        cli.main(["--local", str(state_file), "tenant-list"])
