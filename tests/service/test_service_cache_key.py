"""A selfspec request keys the evaluator cache once: the key (it hashes every document) chooses the worker lane,
and the worker builds from that entry. The route runs in this process, its worker job too, so the calls can be
counted; the job's arguments still cross a pickle, as they do to a worker process."""

from __future__ import annotations

import asyncio
import pickle
import tempfile

from symcost.packs.selfspec.recipe import Recipe
from symcost.service.app import create_app
from symcost.service.models import SelfspecRequest
from symcost.service.selfspec import selfspec_examples
from symcost.service.workers import Lane, run_job


def test_a_selfspec_request_computes_the_cache_key_once_cold_or_warm(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the app's scratch folder for request documents
    lanes = []

    async def in_this_process(lane, function, *arguments, what, client_gone=None):
        lanes.append(lane.settings.name)
        return run_job(function, *pickle.loads(pickle.dumps(arguments)))

    monkeypatch.setattr(Lane, "run", in_this_process)
    keyed = []
    cache_entry = Recipe.cache_entry
    monkeypatch.setattr(Recipe, "cache_entry", lambda recipe: keyed.append(recipe) or cache_entry(recipe))
    app = create_app(tmp_path / "db.sqlite")
    (post_report,) = (route.endpoint for route in app.routes if getattr(route, "path", "") == "/v1/selfspec/report")
    body = SelfspecRequest(**selfspec_examples()["tiny model, knob-based hardware"], prompt_lengths=[128])
    for run in ("cold", "warm"):
        report = asyncio.run(post_report(body, request=None))
        assert [point["L_prompt"] for point in report["points"]] == [128]
        assert len(keyed) == 1, run
        keyed.clear()
    assert lanes == ["heavy", "quick"]  # the compile in the heavy lane; once cached, the report in the quick one
