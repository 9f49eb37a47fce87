"""Property-based fuzzing of the HTTP API from its published OpenAPI document (schemathesis): no 5xx.

Every operation gets generated requests, valid and invalid (wrong types, missing and unknown fields,
out-of-range numbers); the server must answer each with something other than a server error.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from service.service_server import Server

from symcost.packs.llm.catalog import catalog

EXAMPLES_PER_OPERATION = 60
CALLS: dict[int, int] = {}  # status class -> requests made


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("fuzz") / "db.sqlite", recalibrate_after=1000) as running:
        yield running


def test_no_generated_request_makes_the_server_fail(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10  # estimate, solve, catalog, calibrate (GET and POST), selfspec report, curve, limits,
    # examples, healthz
    fuzzed = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode)
            except Unsatisfiable:  # an operation without inputs has no invalid request to make
                assert mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET", operation.label
                continue
            fuzzed.append((operation.label, mode))
    assert len(fuzzed) >= 15
    assert CALLS.get(4, 0) > 200 and 5 not in CALLS, CALLS


def _fuzz(operation, mode) -> None:
    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case):
        response = case.call_and_validate(checks=[not_a_server_error], timeout=120)
        CALLS[response.status_code // 100] = CALLS.get(response.status_code // 100, 0) + 1

    run()


# Schema-generated requests rarely name a catalog entry, so they stop at the lookup. These are valid
# requests over the whole catalog with extreme workloads: they reach the model, the solver and the JSON
# encoding of its numbers.
ids = lambda kind: st.sampled_from(catalog(kind).ids())  # noqa: E731
tokens = st.integers(min_value=0, max_value=10_000_000)
estimate_requests = st.fixed_dictionaries(
    {
        "model_id": ids("models"),
        "runtime_id": ids("runtimes"),
        "quant": ids("quantizations"),
        "hardware": st.fixed_dictionaries({"hardware_id": ids("hardware")}),
        "workload": st.fixed_dictionaries(
            {
                "context_tokens": tokens,
                "output_tokens": tokens,
                "concurrency": st.integers(min_value=1, max_value=100_000),
            }
        ),
        "parallelism": st.fixed_dictionaries(
            {"tensor_parallel": st.sampled_from([1, 2, 4, 8]), "pipeline_parallel": st.sampled_from([1, 2])}
        ),
        "offload": st.sampled_from(["none", "auto", "full"]),
        "recommend": st.integers(min_value=0, max_value=2),
    }
)


def test_valid_requests_over_the_catalog_get_answers_not_server_errors(server):
    statuses = []

    @given(estimate_requests)
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(body):
        status, answer = server.post("/v1/estimate", body)
        statuses.append(status)
        assert status in (200, 400), answer
        if status == 200:
            assert answer["feasibility"] in ("in_vram", "with_offload", "insufficient_memory")

    run()
    assert statuses.count(200) >= 10, statuses  # the rest name layouts or formats the runtime refuses (400)
