"""The local stack's Lambda runtime gives each handler the context its function would
have on Lambda, as template.yaml sets it."""

import pytest

from cloudsms_local import lambda_runtime
from cloudsms_local.lambda_runtime import LocalLambda


@pytest.fixture
def contexts(monkeypatch) -> list[lambda_runtime.FakeLambdaContext]:
    made = []

    class Recorded(lambda_runtime.FakeLambdaContext):
        def __post_init__(self) -> None:
            super().__post_init__()
            made.append(self)

    monkeypatch.setattr(lambda_runtime, "FakeLambdaContext", Recorded)
    return made


def test_a_function_has_the_memory_and_timeout_the_template_gives_it(aws, contexts):
    # Given MissionFunction, which template.yaml gives 1,769 MB and the Globals' timeout
    # When the local runtime invokes it (a request for no route: a 404)
    answer = LocalLambda(aws).invoke("MissionFunction", {"httpMethod": "GET", "path": "/"})

    # Then its context says so
    assert answer["statusCode"] == 404
    assert [(c.memory_limit_in_mb, c.timeout_seconds) for c in contexts] == [(1769, 30)]


def test_a_function_without_its_own_memory_has_the_globals(aws, contexts):
    answer = LocalLambda(aws).invoke("SendApiFunction", {"httpMethod": "GET", "path": "/"})

    assert answer["statusCode"] == 404
    assert [(c.memory_limit_in_mb, c.timeout_seconds) for c in contexts] == [(512, 30)]
