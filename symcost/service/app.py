"""The HTTP API and web UI of the estimator (seed 004 sections 6 and 8).

``create_app(db)`` builds the FastAPI application: the estimator endpoints
under ``/v1``, the core symcost report under ``/v1/selfspec``, the web page at
``/``. Errors are JSON ``{"error": ...}`` with a 4xx status for bad input and a
bare 500 for bugs (never a traceback). Bodies above ``max_body`` bytes are
refused with 413 before they are read in full.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from .. import __version__
from ..errors import InputError, SymcostError
from ..llm.analytic import analytic_model
from ..llm.catalog import catalog
from ..llm.estimate import estimate
from ..llm.recommend import recommended_configs, solve_request
from ..llm.records import checked_records
from ..llm.requests import scenario_from_request
from ..llm.scenario import Workload
from ..llm.solver import SolveRequest, solve
from ..schema_check import load_schema
from .calibration import CalibrationService
from .limits import BodySizeLimit
from .models import (CalibrateResponse, CalibrationStatus, EstimateRequest, EstimateResponse, SelfspecCurveRequest,
                     SelfspecRequest, SolveRequestIn, SolveResponse)
from .selfspec import selfspec_curve, selfspec_examples, selfspec_report

CATALOG_KINDS = {"models": "models", "runtimes": "runtimes", "quantizations": "quantizations",
                 "hardware-profiles": "hardware"}
CatalogKind = Literal[tuple(CATALOG_KINDS)]  # the path parameter: unknown kinds are a 422 listing these
MAX_BODY = 256 * 1024
MAX_CANDIDATES = 3_000_000
log = logging.getLogger("symcost.service")


def create_app(db: str | Path, recalibrate_after: int = 10, max_body: int = MAX_BODY) -> FastAPI:
    calibration = CalibrationService(Path(db), recalibrate_after)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        analytic_model()  # compile once before the first request
        calibration.start()
        yield
        calibration.stop()

    app = FastAPI(title="symcost estimator", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="LLM inference estimates with calibrated intervals, a configuration solver, "
                              "calibration ingest, and the core symcost report.")
    app.add_middleware(BodySizeLimit, max_body=max_body)
    _errors(app)
    _estimator_routes(app, calibration)
    _calibration_routes(app, calibration)
    _selfspec_routes(app)
    _page_routes(app)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError) -> JSONResponse:
        return JSONResponse({"error": "invalid input", "issues": [str(issue) for issue in error.issues]}, status_code=422)

    @app.exception_handler(SymcostError)
    async def symcost_error(_: Request, error: SymcostError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        issues = [f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()]
        return JSONResponse({"error": "invalid request", "issues": issues}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception) -> JSONResponse:
        log.exception("internal error")
        return JSONResponse({"error": "internal error"}, status_code=500)


def _estimator_routes(app: FastAPI, calibration: CalibrationService) -> None:
    @app.post("/v1/estimate", response_model=EstimateResponse, response_model_exclude_none=True, tags=["estimator"])
    def post_estimate(request: EstimateRequest) -> dict[str, Any]:
        scenario = scenario_from_request(request.model_dump())
        bundle = calibration.bundle()
        response = estimate(scenario, bundle)
        response["recommended_configs"] = (recommended_configs(scenario, bundle, request.recommend)
                                           if request.recommend else [])
        return response

    @app.post("/v1/solve", response_model=SolveResponse, tags=["estimator"])
    def post_solve(request: SolveRequestIn) -> dict[str, Any]:
        solve_request = _solve_request(request)
        return solve(solve_request, calibration.bundle())

    @app.get("/v1/catalog/{kind}", tags=["catalog"])
    def get_catalog(kind: CatalogKind) -> list[dict[str, Any]]:
        return [entry.data for entry in catalog(CATALOG_KINDS[kind])]


def _solve_request(request: SolveRequestIn) -> SolveRequest:
    workload = request.workload
    return solve_request(
        request.model_ids, request.hardware_ids, request.runtime_id,
        Workload(workload.context_tokens, workload.output_tokens, workload.concurrency, workload.depth_tokens),
        request.quants, request.objective, tensor_parallel=request.tensor_parallel,
        pipeline_parallel=request.pipeline_parallel, offload=request.offload, context_caps=request.context_caps,
        concurrency=request.concurrency, min_decode_tps=request.min_decode_tps, max_ttft_ms=request.max_ttft_ms,
        top=request.top, max_candidates=MAX_CANDIDATES)


def _calibration_routes(app: FastAPI, calibration: CalibrationService) -> None:
    run_schema = inline_refs(load_schema("llm-run"))

    @app.post("/v1/calibrate", response_model=CalibrateResponse, status_code=202, tags=["calibration"],
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": run_schema}}}})
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


def _selfspec_routes(app: FastAPI) -> None:
    @app.post("/v1/selfspec/report", tags=["selfspec"])
    def post_selfspec_report(request: SelfspecRequest) -> dict[str, Any]:
        return selfspec_report(request.model, request.hardware, request.stats, request.prompt_lengths)

    @app.post("/v1/selfspec/curve", tags=["selfspec"])
    def post_selfspec_curve(request: SelfspecCurveRequest) -> dict[str, Any]:
        return selfspec_curve(request.model, request.hardware, request.stats, request.prompt_lengths)

    @app.get("/v1/selfspec/examples", tags=["selfspec"])
    def get_selfspec_examples() -> dict[str, Any]:
        return selfspec_examples()


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
