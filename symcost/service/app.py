"""The HTTP API and web UI of the estimator (seed 004 sections 6 and 8).

``create_app(db)`` builds the FastAPI application: the estimator endpoints
under ``/v1``, the core symcost report (and the selfspec pack's limits for a
set of documents) under ``/v1/selfspec``, ``/healthz``, the web page at ``/``. Light requests (catalog, calibration
ingest and status, plain estimates, the health check, the page) are answered in the server process; heavy ones run in
worker processes with a time budget (:mod:`.workers`): work known to take
milliseconds (recommendations, solver grids up to QUICK_CANDIDATES, reports
whose evaluator is compiled) in the quick lane, compiles and large grids in
the heavy lane, refits in their own. Every error is JSON ``{"error", "issues"}``
(:mod:`.http_errors`); bodies are read whole up to ``max_body`` bytes and
checked as strict JSON first (:mod:`.bodies`).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..packs.llm.analytic import analytic_model
from ..packs.llm.catalog import catalog
from ..packs.llm.recommend import solve_request
from ..packs.llm.records import checked_records
from ..packs.llm.requests import scenario_from_request
from ..packs.llm.scenario import Workload
from ..packs.llm.solver import SolveRequest, grid_size, solve
from ..schema_check import load_schema
from .bodies import RequestBodies
from .calibration import CalibrationService
from .http_errors import install_error_handlers
from .jobs import estimate_response, refit_store
from .models import (
    CalibrateResponse,
    CalibrationStatus,
    EstimateRequest,
    EstimateResponse,
    Health,
    SelfspecCurveRequest,
    SelfspecDocuments,
    SelfspecLimitsResponse,
    SelfspecRequest,
    SolveRequestIn,
    SolveResponse,
)
from .options import WorkerOptions
from .selfspec import (
    DocumentFolder,
    build_for,
    curve_from_files,
    limits_from_files,
    report_from_files,
    selfspec_examples,
)
from .workers import Lane, LaneSettings

CATALOG_KINDS = {
    "models": "models",
    "runtimes": "runtimes",
    "quantizations": "quantizations",
    "hardware-profiles": "hardware",
}
CatalogKind = Literal[tuple(CATALOG_KINDS)]  # the path parameter: unknown kinds are a 422 listing these
MAX_BODY = 256 * 1024
MAX_CANDIDATES = 3_000_000
QUICK_CANDIDATES = 100_000  # a solver grid this size takes about 50 ms
QUICK_QUEUE = 64  # quick jobs waiting for a worker before a 503


class Lanes:
    """The service's worker pools: quick (milliseconds), heavy (compiles, large grids; low priority), refit."""

    def __init__(self, options: WorkerOptions):
        budget, memory = options.request_timeout, options.memory_mib
        self.quick = Lane(LaneSettings("quick", options.workers, QUICK_QUEUE, budget, memory))
        self.heavy = Lane(LaneSettings("heavy", options.workers, options.workers, budget, memory, niceness=10))
        self.refit = Lane(LaneSettings("refit", 1, 0, options.refit_timeout, memory, niceness=10))
        self.all = (self.quick, self.heavy, self.refit)

    def run_refit(self, db: str) -> None:
        self.refit.call(refit_store, db, what="the refit")


def create_app(
    db: str | Path, recalibrate_after: int = 10, max_body: int = MAX_BODY, workers: WorkerOptions = WorkerOptions()
) -> FastAPI:
    lanes = Lanes(workers)
    calibration = CalibrationService(Path(db), recalibrate_after, lanes.run_refit)
    documents = DocumentFolder(Path(tempfile.mkdtemp(prefix="symcost-serve-")))

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        analytic_model()  # compile once before the first request (plain estimates run here)
        for lane in lanes.all:
            lane.start()
        calibration.start()
        yield
        for lane in lanes.all:  # first: a refit waiting on its worker is cancelled, so the thread can stop
            lane.stop()
        calibration.stop()
        shutil.rmtree(documents.root, ignore_errors=True)

    app = FastAPI(
        title="symcost estimator",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="LLM inference estimates with calibrated intervals, a configuration solver, "
        "calibration ingest, and the core symcost report.",
    )
    app.add_middleware(RequestBodies, max_body=max_body)
    install_error_handlers(app)
    _estimator_routes(app, calibration, lanes)
    _calibration_routes(app, calibration)
    _selfspec_routes(app, lanes, documents)
    _health_route(app)
    _page_routes(app)
    return app


async def client_gone(request: Request) -> None:
    """Returns when the client hangs up (the body was read already, so the server's next message is that)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _estimator_routes(app: FastAPI, calibration: CalibrationService, lanes: Lanes) -> None:
    @app.post("/v1/estimate", response_model=EstimateResponse, response_model_exclude_none=True, tags=["estimator"])
    async def post_estimate(body: EstimateRequest, request: Request) -> dict[str, Any]:
        scenario, bundle = await run_in_threadpool(
            lambda: (scenario_from_request(body.model_dump()), calibration.bundle())
        )
        if not body.recommend:  # about a millisecond: answered here
            return await run_in_threadpool(estimate_response, scenario, bundle, 0)
        return await lanes.quick.run(
            estimate_response,
            scenario,
            bundle,
            body.recommend,
            what="the estimate",
            client_gone=partial(client_gone, request),
        )

    @app.post("/v1/solve", response_model=SolveResponse, tags=["estimator"])
    async def post_solve(body: SolveRequestIn, request: Request) -> dict[str, Any]:
        solve_request, bundle = await run_in_threadpool(lambda: (_solve_request(body), calibration.bundle()))
        lane = lanes.quick if grid_size(solve_request) <= QUICK_CANDIDATES else lanes.heavy
        return await lane.run(
            solve, solve_request, bundle, what="the solver run", client_gone=partial(client_gone, request)
        )

    @app.get("/v1/catalog/{kind}", tags=["catalog"])
    def get_catalog(kind: CatalogKind) -> list[dict[str, Any]]:
        return [entry.data for entry in catalog(CATALOG_KINDS[kind])]


def _solve_request(request: SolveRequestIn) -> SolveRequest:
    workload = request.workload
    return solve_request(
        request.model_ids,
        request.hardware_ids,
        request.runtime_id,
        Workload(workload.context_tokens, workload.output_tokens, workload.concurrency, workload.depth_tokens),
        request.quants,
        request.objective,
        tensor_parallel=request.tensor_parallel,
        pipeline_parallel=request.pipeline_parallel,
        offload=request.offload,
        context_caps=request.context_caps,
        concurrency=request.concurrency,
        min_decode_tps=request.min_decode_tps,
        max_ttft_ms=request.max_ttft_ms,
        top=request.top,
        max_candidates=MAX_CANDIDATES,
        backend=request.backend,
    )


def _calibration_routes(app: FastAPI, calibration: CalibrationService) -> None:
    run_schema = inline_refs(load_schema("llm-run"))

    @app.post(
        "/v1/calibrate",
        response_model=CalibrateResponse,
        status_code=202,
        tags=["calibration"],
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": run_schema}}}},
    )
    def post_calibrate(record: dict[str, Any] = Body(...)) -> dict[str, Any]:
        (checked,) = checked_records([record], "request")
        return calibration.ingest(checked)

    @app.get("/v1/calibrate", response_model=CalibrationStatus, tags=["calibration"])
    def get_calibrate() -> dict[str, Any]:
        return calibration.status()


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its local ``#/$defs/...`` references replaced by their targets, for embedding in
    the OpenAPI document (where such references would resolve against the wrong root)."""
    definitions = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = definitions[node["$ref"].rsplit("/", 1)[1]]
                return walk({**target, **{k: v for k, v in node.items() if k != "$ref"}})
            return {key: walk(value) for key, value in node.items() if key not in ("$defs", "$schema", "$id")}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return walk(schema)


def _selfspec_routes(app: FastAPI, lanes: Lanes, documents: DocumentFolder) -> None:
    async def in_worker(job, body: SelfspecDocuments, request: Request, what: str, *arguments) -> dict[str, Any]:
        with documents.holding(body.model, body.hardware, body.stats) as paths:
            build = await run_in_threadpool(build_for, paths)
            lane = lanes.quick if build.compiled else lanes.heavy
            return await lane.run(job, build, *arguments, what=what, client_gone=partial(client_gone, request))

    @app.post("/v1/selfspec/report", tags=["selfspec"])
    async def post_selfspec_report(body: SelfspecRequest, request: Request) -> dict[str, Any]:
        return await in_worker(report_from_files, body, request, "the selfspec report", body.prompt_lengths)

    @app.post("/v1/selfspec/curve", tags=["selfspec"])
    async def post_selfspec_curve(body: SelfspecCurveRequest, request: Request) -> dict[str, Any]:
        return await in_worker(curve_from_files, body, request, "the selfspec curve", body.prompt_lengths)

    @app.post("/v1/selfspec/limits", response_model=SelfspecLimitsResponse, tags=["selfspec"])
    async def post_selfspec_limits(body: SelfspecDocuments, request: Request) -> dict[str, Any]:
        """The pack's validity limits (formulas/selfspec.yaml ``limits``) for these documents: which apply,
        each with the documents' values in, and the longest prompt they allow (the page cuts its curves there)."""
        return await in_worker(limits_from_files, body, request, "the selfspec limits")

    @app.get("/v1/selfspec/examples", tags=["selfspec"])
    def get_selfspec_examples() -> dict[str, Any]:
        return selfspec_examples()


def _health_route(app: FastAPI) -> None:
    @app.get("/healthz", response_model=Health, tags=["service"])
    def get_healthz() -> dict[str, str]:
        """For load balancers and supervisors: answered by the server process itself, it touches neither the
        workers nor the calibration store, so it stays quick while they are busy."""
        return {"status": "ok"}


def _page_routes(app: FastAPI) -> None:
    static = resources.files("symcost.service").joinpath("static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(static.joinpath("index.html")))

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ("app.js", "style.css"):
            raise HTTPException(status_code=404, detail=f"no asset {name!r}")
        return FileResponse(str(static.joinpath(name)))
