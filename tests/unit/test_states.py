"""The forward-only rule of delivery states: receipts arrive late, twice or out of order."""

import pytest

from cloudsms.domain.states import (
    FAILED,
    FINAL,
    INTERMEDIATE,
    DrState,
    Outcome,
    can_move,
    is_final,
    outcome,
    states_below,
)

CARRIER_FINAL = [
    DrState.DELIVRD,
    DrState.UNDELIV,
    DrState.EXPIRED,
    DrState.REJECTD,
    DrState.DELETED,
    DrState.UNKNOWN,
]


@pytest.mark.parametrize("state", list(DrState))
def test_a_state_never_moves_to_itself(state):
    assert not can_move(state, state)


def test_a_message_moves_from_queued_through_submitting_to_submitted():
    assert can_move(DrState.QUEUED, DrState.SUBMITTING)
    assert can_move(DrState.SUBMITTING, DrState.SUBMITTED)


@pytest.mark.parametrize("intermediate", sorted(INTERMEDIATE))
def test_a_submitted_message_moves_to_an_intermediate_state(intermediate):
    assert can_move(DrState.SUBMITTED, intermediate)


@pytest.mark.parametrize("final", CARRIER_FINAL)
@pytest.mark.parametrize(
    "current", [DrState.SUBMITTING, DrState.SUBMITTED, DrState.ENROUTE, DrState.ACCEPTD]
)
def test_a_final_receipt_moves_a_message_on_its_way(current, final):
    assert can_move(current, final)


@pytest.mark.parametrize("new", list(DrState))
@pytest.mark.parametrize("final", sorted(FINAL))
def test_a_final_state_never_changes(final, new):
    assert not can_move(final, new)


@pytest.mark.parametrize("intermediate", sorted(INTERMEDIATE))
@pytest.mark.parametrize("earlier", [DrState.QUEUED, DrState.SUBMITTING, DrState.SUBMITTED])
def test_an_intermediate_state_never_moves_back(intermediate, earlier):
    assert not can_move(intermediate, earlier)


def test_one_intermediate_state_does_not_replace_the_other():
    assert not can_move(DrState.ENROUTE, DrState.ACCEPTD)
    assert not can_move(DrState.ACCEPTD, DrState.ENROUTE)


def test_a_late_submitted_never_overtakes_a_receipt():
    assert not can_move(DrState.DELIVRD, DrState.SUBMITTED)
    assert not can_move(DrState.ENROUTE, DrState.SUBMITTED)


@pytest.mark.parametrize("new", list(DrState))
def test_states_below_are_exactly_the_states_that_may_move_to_the_new_one(new):
    assert set(states_below(new)) == {s for s in DrState if can_move(s, new)}


@pytest.mark.parametrize("final", sorted(FINAL))
def test_no_final_state_is_below_a_final_state(final):
    assert not set(states_below(final)) & FINAL


def test_only_queued_and_submitting_are_below_submitted():
    assert set(states_below(DrState.SUBMITTED)) == {DrState.QUEUED, DrState.SUBMITTING}


def test_nothing_is_below_queued():
    assert states_below(DrState.QUEUED) == []


@pytest.mark.parametrize("state", [DrState.SUBMIT_FAILED, DrState.LOCAL_REJECTED])
def test_a_message_the_platform_or_gateway_refused_is_final_and_failed(state):
    assert is_final(state)
    assert state in FAILED


@pytest.mark.parametrize("state", [*sorted(INTERMEDIATE), DrState.QUEUED, DrState.SUBMITTED])
def test_waiting_states_are_not_final(state):
    assert not is_final(state)


def test_a_delivered_message_reads_as_delivered():
    assert outcome(DrState.DELIVRD) == Outcome.DELIVERED


@pytest.mark.parametrize("state", sorted(FAILED))
def test_every_failed_state_reads_as_failed(state):
    assert outcome(state) == Outcome.FAILED


def test_no_final_receipt_in_time_reads_as_no_notification():
    assert outcome(DrState.UNKNOWN) == Outcome.NO_NOTIFICATION


@pytest.mark.parametrize("state", [DrState.QUEUED, DrState.SUBMITTING])
def test_a_message_not_yet_with_the_gateway_reads_as_pending(state):
    assert outcome(state) == Outcome.PENDING


@pytest.mark.parametrize("state", [DrState.SUBMITTED, DrState.ENROUTE, DrState.ACCEPTD])
def test_a_message_with_the_carrier_and_no_final_receipt_reads_as_sent(state):
    assert outcome(state) == Outcome.SENT
