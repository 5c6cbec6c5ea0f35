"""The local stack's files that hold keys and passwords are its owner's alone."""

import stat

from cloudsms_local.files import write_private


def test_a_private_file_is_readable_by_its_owner_only_even_one_left_readable_before(tmp_path):
    earlier = tmp_path / "stack.json"
    earlier.write_text("an earlier run's keys, and more of them")
    earlier.chmod(0o644)

    write_private(earlier, "{}")

    assert stat.S_IMODE(earlier.stat().st_mode) == 0o600
    assert earlier.read_text() == "{}"
