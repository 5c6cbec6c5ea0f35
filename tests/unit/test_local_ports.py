"""Free ports for the local stack's servers."""

from cloudsms_local.kannel import KannelHarness
from cloudsms_local.ports import free_ports


def test_ports_chosen_together_are_all_different():
    ports = free_ports(64)

    assert len(set(ports)) == 64


def test_kannels_four_ports_are_all_different(tmp_path):
    harness = KannelHarness(workdir=tmp_path)

    ports = {harness.admin_port, harness.smsbox_port, harness.smsc_port, harness.sendsms_port}

    assert len(ports) == 4
