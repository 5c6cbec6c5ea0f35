"""The console command's arguments: `--local` with or without a state file."""

import argparse
from pathlib import Path

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
