"""OpenTelemetry tracing, only when an OTLP endpoint is configured (the ``otel`` extra)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from teamspro.config import Settings

log = logging.getLogger(__name__)


def setup_tracing(app: FastAPI, settings: Settings) -> Any:
    """Instrument this app only; the provider is returned so the lifespan can flush it."""
    if not settings.otlp_endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.error("TEAMSPRO_OTLP_ENDPOINT is set but the 'otel' extra is not installed")
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": "teamspro"}))
    endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    return provider
