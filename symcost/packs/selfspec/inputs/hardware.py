"""The hardware file, resolved into a flat table of coefficients with provenance.

Two forms are read: knob-based (``analog.*`` knobs, figures from a component
library, optional ``soc``/``memory``/``leakage_power`` sections) and legacy
(coarse per-MAC ``costs.*``). Resolution produces one :class:`Coefficient` per
figure, named by a dotted path (``adc_draft.energy_pj_per_conversion``,
``soc.control.latency_ns_per_token``, ``digital.features.attention_qk.energy_pj_per_mac``)
and carrying its value in the unit its name states and where it came from.
Formula packs bind their hardware symbols to these paths.

Precedence for a field (as in the reference implementation): the hardware
file, then the selected library's default, then the schema default (0 unless
the schema says otherwise). Library memory figures apply only when the
hardware file has a ``memory`` section (no section: no memory model).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ....checked import checked_document
from ....errors import InputError, InputIssue
from ....schema_check import leaf_fields
from ....units import field_unit
from .library import ComponentLibrary, available_libraries, search_path_files

DEFAULT_LIBRARY = "puma_like_v1"
DPU_FEATURE_FALLBACK = {
    "attention_qk": "attention",
    "attention_softmax": "softmax",
    "attention_pv": "attention",
    "ffn_activation": "elementwise",
    "ffn_gate_multiply": "elementwise",
    "kv_cache_update": "kv_cache",
}
_LEGACY_COARSE = {
    "attention": "digital_attention",
    "softmax": "digital_softmax",
    "elementwise": "digital_elementwise",
    "kv_cache": "kv_cache",
}
# hardware section (schema pointer) -> library section that supplies its defaults
_LAYERED_SECTIONS = (("soc", "soc"), ("analog.periphery", "analog_periphery"), ("leakage_power", "leakage_power"))
_MEMORY_TECHNOLOGIES = ("sram", "hbm", "fabric")
# soc fields only a hardware file gives (no library default): the schedule and how many units work at once
HARDWARE_ONLY_SOC_FIELDS = ("schedule", "attention_cim_units", "parallel_tile_reads")


@dataclass(frozen=True)
class Coefficient:
    """One resolved hardware figure: value in ``unit``, and its provenance."""

    path: str
    value: float
    unit: str
    provenance: str


@dataclass(frozen=True)
class HardwareSpec:
    mode: str  # "knob-based" or "legacy"
    reuse_policy: str
    schedule: str
    library: str | None
    coefficients: dict[str, Coefficient]
    switches: dict[str, bool] = field(default_factory=dict)
    feature_mapping: dict[str, str] = field(default_factory=dict)
    source: str = ""
    # What the file itself says and the selected library's own figures (knob-based form),
    # kept so reports can echo the inputs apart from the values in effect.
    file_data: dict[str, Any] = field(default_factory=dict)
    library_figures: dict[str, Any] = field(default_factory=dict)

    def value(self, path: str) -> float:
        return self.coefficients[path].value


def read_hardware(
    path: str | Path, library_path: list[str] | None = None, overrides: dict[str, Any] | None = None
) -> HardwareSpec:
    """Read, validate and resolve a hardware file.

    ``library_path`` lists extra component-library files (searched before the
    packaged one; the ``SYMCOST_LIBRARY_PATH`` variable adds more).
    ``overrides`` (dotted field -> value, ``None`` removes) change the file's
    knobs before validation, e.g. ADC bits from a simulator run on a template.
    """
    document = checked_document(path, "hardware", overrides)
    data, label = document.data, document.label
    has_knobs, has_costs = "analog" in data, "costs" in data
    if has_knobs and has_costs:
        raise InputError(
            [
                InputIssue(
                    label,
                    "costs",
                    "cannot be combined with analog.* knobs: use either the knob-based form or the legacy costs.* form",
                )
            ]
        )
    if not has_knobs and not has_costs:
        raise InputError(
            [
                InputIssue(
                    label,
                    "<root>",
                    "expected either analog.* knobs (with a component library) or legacy costs.*; found neither",
                )
            ]
        )
    resolver = _Resolver(data, label, Path(path))
    if has_costs:
        return resolver.legacy()
    return resolver.knob_based(search_path_files(library_path))


class _Resolver:
    def __init__(self, data: dict[str, Any], label: str, path: Path):
        self.data = data
        self.label = label
        self.path = path
        self.table: dict[str, Coefficient] = {}

    def put(self, dotted: str, value: Any, provenance: str) -> None:
        if value is None or isinstance(value, bool):
            return
        leaf = dotted.rsplit(".", 1)[-1]
        self.table[dotted] = Coefficient(dotted, value, field_unit(leaf) or "1", provenance)

    def from_file(self, dotted_in_file: str) -> str:
        return f"{self.label}: {dotted_in_file}"

    def common(self) -> dict[str, Any]:
        return {
            "reuse_policy": self.data.get("reuse_policy", "reuse"),
            "schedule": self.data.get("soc", {}).get("schedule", "serialized"),
            "source": str(self.path),
            "file_data": self.data,
        }

    # ---- legacy form ---------------------------------------------------------------
    def legacy(self) -> HardwareSpec:
        costs = self.data["costs"]
        for dotted, value in _flatten(costs):
            self.put(f"costs.{dotted}", value, self.from_file(f"costs.{dotted}"))
        if "digital_overhead_area_mm2_per_layer" not in costs:
            self.put("costs.digital_overhead_area_mm2_per_layer", 0.0, "schema default (not given)")
        explicit = costs.get("digital_features") or {}
        mapping = self.features(
            explicit,
            lambda coarse: ("costs." + _LEGACY_COARSE[coarse], costs[_LEGACY_COARSE[coarse]]),
            explicit_prefix="costs.digital_features",
        )
        # Without a library, soc / leakage / memory figures come from the file or the schema defaults.
        for section in ("soc", "leakage_power"):
            self.put_layered(section, None, section)
        self.put_phase_buffers_add()
        self.put_memory(None)
        self.put_soc_only_knobs()
        switches = {"memory": "memory" in self.data}
        return HardwareSpec(
            mode="legacy",
            library=None,
            coefficients=self.table,
            switches=switches,
            feature_mapping=mapping,
            **self.common(),
        )

    def put_soc_only_knobs(self) -> None:
        soc = self.data.get("soc", {})
        for knob in ("attention_cim_units", "parallel_tile_reads"):
            self.put(
                f"soc.{knob}", soc.get(knob, 1), self.from_file(f"soc.{knob}") if knob in soc else "schema default"
            )

    def features(self, explicit: dict[str, Any], coarse_source, explicit_prefix: str) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for feature, coarse in DPU_FEATURE_FALLBACK.items():
            if feature in explicit:
                values, origin = explicit[feature], f"{explicit_prefix}.{feature}"
                mapping[feature] = f"explicit:{origin}"
            else:
                origin, values = coarse_source(coarse)
                mapping[feature] = f"mapped:{origin}"
            for key in ("energy_pj_per_mac", "latency_ns_per_mac"):
                self.put(f"digital.features.{feature}.{key}", values[key], f"{mapping[feature]}.{key}")
        return mapping

    # ---- knob-based form -----------------------------------------------------------
    def knob_based(self, search_path: list[Path]) -> HardwareSpec:
        library = self.select_library(search_path)
        analog = self.data["analog"]
        issues = list(self.knob_issues(analog, library))
        if issues:
            raise InputError(issues)
        self.put_analog_knobs(analog)
        self.put_converters(analog, library)
        for dotted, value in _flatten(library.body["array"]):
            self.put(f"array.{dotted}", value, library.provenance_of(f"array.{dotted}"))
        if "arrays_per_weight" not in library.body["array"]:
            self.put("array.arrays_per_weight", 1, "schema default (not in library)")
        self.put_digital(library)
        for section, library_section in _LAYERED_SECTIONS:
            self.put_layered(section, library, library_section)
        self.put_phase_buffers_add()
        self.put_memory(library)
        self.put_soc_only_knobs()
        delta = analog.get("delta_readout", {})
        switches = {
            f"delta_readout.{mode}": bool(delta.get(mode, {}).get("enabled", False)) for mode in ("draft", "verify")
        }
        switches["memory"] = "memory" in self.data
        mapping = self.features(
            library.body["digital"].get("features") or {},
            lambda coarse: (f"library.digital.{coarse}", library.body["digital"][coarse]),
            explicit_prefix="library.digital.features",
        )
        return HardwareSpec(
            mode="knob-based",
            library=library.name,
            coefficients=self.table,
            switches=switches,
            feature_mapping=mapping,
            library_figures=library.body,
            **self.common(),
        )

    def select_library(self, search_path: list[Path]) -> ComponentLibrary:
        library_file = self.data.get("library_file")
        if library_file is not None:
            library_file = Path(library_file)
            if not library_file.is_absolute():
                library_file = (self.path.parent / library_file).resolve()
            if not library_file.is_file():
                raise InputError([InputIssue(self.label, "library_file", f"library file not found: {library_file}")])
        libraries = available_libraries(library_file, search_path)
        name = self.data.get("library", DEFAULT_LIBRARY)
        if name not in libraries:
            close = difflib.get_close_matches(name, list(libraries), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                [
                    InputIssue(
                        self.label,
                        "library",
                        f"unknown component library {name!r}{hint} (available: {', '.join(sorted(libraries))})",
                    )
                ]
            )
        return libraries[name]

    def knob_issues(self, analog: dict[str, Any], library: ComponentLibrary) -> Iterator[InputIssue]:
        xbar = analog["xbar_size"]
        columns = {"analog.num_columns_per_adc": analog["num_columns_per_adc"]}
        for path_name, value in analog["adc"].get("num_columns_per_adc", {}).items():
            columns[f"analog.adc.num_columns_per_adc.{path_name}"] = value
        for field_path, value in columns.items():
            if xbar % value:
                yield InputIssue(
                    self.label, field_path, f"expected a divisor of analog.xbar_size ({xbar}), got {value}"
                )
        for field_path, table, bits in self.requested_bits(analog):
            available = sorted(int(b) for b in library.body[table])
            if bits not in available:
                yield InputIssue(
                    self.label,
                    field_path,
                    f"{bits}-bit {table.upper()} not in library {library.name!r} "
                    f"(available bits: {', '.join(map(str, available))})",
                )

    @staticmethod
    def requested_bits(analog: dict[str, Any]) -> Iterator[tuple[str, str, int]]:
        yield "analog.adc.draft_bits", "adc", analog["adc"]["draft_bits"]
        yield "analog.adc.residual_bits", "adc", analog["adc"]["residual_bits"]
        yield "analog.dac_bits", "dac", analog["dac_bits"]
        for mode, knobs in analog.get("delta_readout", {}).items():
            if knobs.get("enabled"):
                yield f"analog.delta_readout.{mode}.dac_bits", "dac", knobs.get("dac_bits") or analog["dac_bits"]

    def put_analog_knobs(self, analog: dict[str, Any]) -> None:
        for key in ("xbar_size", "num_columns_per_adc", "dac_bits"):
            self.put(f"analog.{key}", analog[key], self.from_file(f"analog.{key}"))
        for key in ("draft_bits", "residual_bits"):
            self.put(f"analog.adc.{key}", analog["adc"][key], self.from_file(f"analog.adc.{key}"))
        per_path = analog["adc"].get("num_columns_per_adc", {})
        for path_name in ("draft", "residual"):
            if path_name in per_path:
                self.put(
                    f"analog.adc.num_columns_per_adc.{path_name}",
                    per_path[path_name],
                    self.from_file(f"analog.adc.num_columns_per_adc.{path_name}"),
                )
            else:
                self.put(
                    f"analog.adc.num_columns_per_adc.{path_name}",
                    analog["num_columns_per_adc"],
                    self.from_file("analog.num_columns_per_adc") + " (shared by both ADC paths)",
                )

    def put_converters(self, analog: dict[str, Any], library: ComponentLibrary) -> None:
        chosen = {
            "adc_draft": ("adc", analog["adc"]["draft_bits"]),
            "adc_residual": ("adc", analog["adc"]["residual_bits"]),
            "dac": ("dac", analog["dac_bits"]),
        }
        for mode, knobs in analog.get("delta_readout", {}).items():
            if knobs.get("enabled"):
                self.put(
                    f"delta_readout.{mode}.dac_bits",
                    knobs.get("dac_bits") or analog["dac_bits"],
                    self.from_file(f"analog.delta_readout.{mode}"),
                )
                chosen[f"dac_delta_{mode}"] = ("dac", knobs.get("dac_bits") or analog["dac_bits"])
        for name, (table, bits) in chosen.items():
            for key, value in library.body[table][str(bits)].items():
                self.put(f"{name}.{key}", value, library.provenance_of(f"{table}.{bits}.{key}"))

    def put_digital(self, library: ComponentLibrary) -> None:
        digital = library.body["digital"]
        for coarse in ("attention", "softmax", "elementwise", "kv_cache"):
            for key, value in digital[coarse].items():
                self.put(f"digital.{coarse}.{key}", value, library.provenance_of(f"digital.{coarse}.{key}"))
        self.put(
            "digital.digital_overhead_area_mm2_per_layer",
            digital.get("digital_overhead_area_mm2_per_layer", 0.0),
            library.provenance_of("digital.digital_overhead_area_mm2_per_layer")
            if "digital_overhead_area_mm2_per_layer" in digital
            else "schema default (not in library)",
        )

    def put_layered(self, section: str, library: ComponentLibrary | None, library_section: str) -> None:
        own = _dig(self.data, section)
        defaults = _dig(library.body, library_section) if library else None
        for dotted, schema in leaf_fields("hardware", "/properties/" + "/properties/".join(section.split("."))).items():
            if dotted in HARDWARE_ONLY_SOC_FIELDS:
                continue  # hardware-only knobs, not library defaults
            if _has(own, dotted):
                self.put(f"{section}.{dotted}", _dig(own, dotted), self.from_file(f"{section}.{dotted}"))
            elif _has(defaults, dotted):
                self.put(
                    f"{section}.{dotted}", _dig(defaults, dotted), library.provenance_of(f"{library_section}.{dotted}")
                )
            else:
                self.put(
                    f"{section}.{dotted}",
                    field_default(dotted, schema),
                    "schema default (given by neither hardware file nor library)",
                )

    def put_phase_buffers_add(self) -> None:
        """A phase without its own buffers_add figure uses the shared one."""
        for phase in ("draft", "verify"):
            for key in ("energy_pj_per_op", "latency_ns_per_op", "area_mm2_per_unit"):
                shared = self.table[f"soc.buffers_add.{key}"]
                self.table.setdefault(
                    f"soc.buffers_add.{phase}.{key}",
                    Coefficient(
                        f"soc.buffers_add.{phase}.{key}",
                        shared.value,
                        shared.unit,
                        f"same as soc.buffers_add.{key} ({shared.provenance})",
                    ),
                )

    def put_memory(self, library: ComponentLibrary | None) -> None:
        if "memory" not in self.data:
            return
        own = self.data["memory"]
        library_memory = library.body.get("memory", {}) if library else {}
        for dotted, schema in leaf_fields("hardware", "/properties/memory").items():
            if _has(own, dotted):
                self.put(f"memory.{dotted}", _dig(own, dotted), self.from_file(f"memory.{dotted}"))
            elif dotted.split(".")[0] in _MEMORY_TECHNOLOGIES and _has(library_memory, dotted):
                self.put(f"memory.{dotted}", _dig(library_memory, dotted), library.provenance_of(f"memory.{dotted}"))
            elif dotted.startswith("kv_cache.sram.") and _has(own, "kv_cache.hbm." + dotted.rsplit(".", 1)[1]):
                continue  # an absent SRAM KV format is the HBM format; resolved below
            else:
                self.put(
                    f"memory.{dotted}",
                    field_default(dotted, schema),
                    "schema default (given by neither hardware file nor library)",
                )
        for key in ("value_bytes_per_elem", "scale_bytes", "scales_per_token_per_head"):
            if f"memory.kv_cache.sram.{key}" not in self.table:
                hbm = self.table[f"memory.kv_cache.hbm.{key}"]
                self.table[f"memory.kv_cache.sram.{key}"] = Coefficient(
                    f"memory.kv_cache.sram.{key}",
                    hbm.value,
                    hbm.unit,
                    f"same as memory.kv_cache.hbm.{key} ({hbm.provenance})",
                )


def field_default(dotted: str, schema: dict[str, Any]) -> Any:
    """A section field's value when neither the file nor the library gives it.

    ``None`` (the field stays unset) for nullable fields and for the per-phase
    buffers_add figures, which then fall back to the shared ones.
    """
    if schema.get("nullable") or ".draft." in f".{dotted}." or ".verify." in f".{dotted}.":
        return None
    return schema.get("default", 0)


def _flatten(mapping: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _dig(mapping: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(mapping, dict) or part not in mapping:
            return None
        mapping = mapping[part]
    return mapping


def _has(mapping: Any, dotted: str) -> bool:
    return _dig(mapping, dotted) is not None
