"""The reference calculator's echoes of its inputs: ``model_knobs``, ``hardware_knobs``, ``resolved_library``.

Values in effect come from symcost's resolved coefficient table; what the
hardware file or the library said on its own comes from the raw data kept in
:class:`~symcost.packs.selfspec.inputs.hardware.HardwareSpec`. Field lists come from the
hardware schema, the one place they are declared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ....schema_check import leaf_fields
from ..inputs.hardware import HARDWARE_ONLY_SOC_FIELDS, HardwareSpec, field_default
from ..inputs.model import ModelSpec

CONVERTER_FIELDS = ("energy_pj_per_conversion", "latency_ns_per_conversion", "area_mm2_per_unit")
PER_MAC_FIELDS = ("energy_pj_per_mac", "latency_ns_per_mac")
DIGITAL_UNITS = ("attention", "softmax", "elementwise", "kv_cache")
FEATURES = (
    "attention_qk",
    "attention_softmax",
    "attention_pv",
    "ffn_activation",
    "ffn_gate_multiply",
    "kv_cache_update",
)
# Readout blocks whose figures make the reference list analog_periphery among the knobs.
READOUT_BLOCKS = ("tia", "snh", "mux", "io_buffers", "subarray_switches", "write_drivers")
MEMORY_TECHNOLOGIES = ("sram", "hbm", "fabric")
# Sections as the reference nests them: (name in the echo, hardware schema pointer, coefficient prefix).
SOC = ("soc", "/properties/soc", "soc")
PERIPHERY = ("analog_periphery", "/properties/analog/properties/periphery", "analog.periphery")
LEAKAGE = ("leakage_power", "/properties/leakage_power", "leakage_power")
MEMORY = ("memory", "/properties/memory", "memory")


def model_knobs(model: ModelSpec) -> dict[str, Any]:
    return {
        "activation_bits": model.activation_bits,
        "n_layers": model.n_layers,
        "d_model": model.d_model,
        "n_heads": model.n_heads,
        "ffn_type": model.ffn_type,
        "d_ff": model.d_ff,
    }


def feature_mapping(hardware: HardwareSpec) -> dict[str, str]:
    """Which coefficient each DPU feature used, named as the reference names it."""
    return {feature: source.replace(":library.", ":") for feature, source in hardware.feature_mapping.items()}


def _dig(mapping: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(part)
    return mapping


def _nest(fields: list[str], value_of: Callable[[str], Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted in fields:
        *parents, leaf = dotted.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value_of(dotted)
    return nested


def _in_effect(hardware: HardwareSpec, section: tuple[str, str, str], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A section with the values symcost uses (file, else library, else schema default)."""
    _name, pointer, prefix = section
    fields = [dotted for dotted in leaf_fields("hardware", pointer) if dotted.split(".")[0] not in skip]

    def value_of(dotted: str) -> Any:
        coefficient = hardware.coefficients.get(f"{prefix}.{dotted}")
        return None if coefficient is None else coefficient.value

    return _nest(fields, value_of)


def _library_defaults(
    hardware: HardwareSpec, section: tuple[str, str, str], skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A section as the library alone gives it (schema defaults for what it leaves out)."""
    name, pointer, _prefix = section
    schema_fields = leaf_fields("hardware", pointer)
    own = hardware.library_figures.get(name, {})

    def value_of(dotted: str) -> Any:
        value = _dig(own, dotted)
        return field_default(dotted, schema_fields[dotted]) if value is None else value

    return _nest([dotted for dotted in schema_fields if dotted.split(".")[0] not in skip], value_of)


def _file_or_library(hardware: HardwareSpec, file_path: str, library_path: str) -> Any:
    value = _dig(hardware.file_data, file_path)
    return _dig(hardware.library_figures, library_path) if value is None else value


def _soc_knobs(hardware: HardwareSpec) -> dict[str, Any]:
    soc = _in_effect(hardware, SOC)
    soc["schedule"] = hardware.schedule
    # symcost's extension is echoed only where it departs from the reference's single read pipeline
    if soc["parallel_tile_reads"] == 1:
        del soc["parallel_tile_reads"]
    # Per-phase buffers_add figures stay unset where neither file nor library gives them.
    for phase in ("draft", "verify"):
        for key in soc["buffers_add"][phase]:
            soc["buffers_add"][phase][key] = _file_or_library(
                hardware, f"soc.buffers_add.{phase}.{key}", f"soc.buffers_add.{phase}.{key}"
            )
    return soc


def _soc_is_configured(soc: dict[str, Any]) -> bool:
    buffers = soc["buffers_add"]
    return (
        soc["schedule"] != "serialized"
        or any(soc["verify_setup"].values())
        or any(soc["control"].values())
        or any(value for key, value in buffers.items() if key not in ("draft", "verify"))
        or any(value is not None for phase in ("draft", "verify") for value in buffers[phase].values())
    )


def _memory_knobs(hardware: HardwareSpec) -> dict[str, Any]:
    memory = _in_effect(hardware, MEMORY)
    if _dig(hardware.file_data, "memory.kv_cache.sram") is None:
        memory["kv_cache"]["sram"] = None  # absent means: the HBM format, as the file left it
    return memory


def _analog_knobs(hardware: HardwareSpec) -> dict[str, Any]:
    value = hardware.value
    knobs: dict[str, Any] = {
        "library": hardware.library,
        "xbar_size": value("analog.xbar_size"),
        "num_columns_per_adc": value("analog.num_columns_per_adc"),
        "dac_bits": value("analog.dac_bits"),
        "adc": {"draft_bits": value("analog.adc.draft_bits"), "residual_bits": value("analog.adc.residual_bits")},
    }
    if _dig(hardware.file_data, "analog.adc.num_columns_per_adc") is not None:
        knobs["adc"]["num_columns_per_adc"] = {
            path: value(f"analog.adc.num_columns_per_adc.{path}") for path in ("draft", "residual")
        }
    periphery = _in_effect(hardware, PERIPHERY)
    if any(periphery[block][key] for block in READOUT_BLOCKS for key in periphery[block]):
        knobs["analog_periphery"] = periphery
    if any(hardware.switches.get(f"delta_readout.{mode}") for mode in ("draft", "verify")):
        knobs["delta_readout"] = _delta_readout(hardware)
    return knobs


def _delta_readout(hardware: HardwareSpec) -> dict[str, Any]:
    return {
        mode: {
            "enabled": bool(hardware.switches.get(f"delta_readout.{mode}")),
            "dac_bits": _dig(hardware.file_data, f"analog.delta_readout.{mode}.dac_bits"),
        }
        for mode in ("draft", "verify")
    }


def hardware_knobs(hardware: HardwareSpec) -> dict[str, Any]:
    """The knobs in effect, with the sections the reference lists when they are configured."""
    knobs: dict[str, Any] = {"reuse_policy": hardware.reuse_policy}
    if hardware.mode == "knob-based":
        knobs.update(_analog_knobs(hardware))
    if hardware.switches.get("memory"):
        knobs["memory"] = _memory_knobs(hardware)
    leakage = _in_effect(hardware, LEAKAGE)
    # The knob-based form always takes leakage figures from its library, so lists them.
    if hardware.mode == "knob-based" or "leakage_power" in hardware.file_data or any(leakage.values()):
        knobs["leakage_power"] = leakage
    soc = _soc_knobs(hardware)
    if _soc_is_configured(soc):
        knobs["soc"] = soc
    return knobs


def resolved_library(hardware: HardwareSpec) -> dict[str, Any] | None:
    """The selected library's figures as used (converters at the chosen bits) and its defaults."""
    if hardware.mode != "knob-based":
        return None
    value = hardware.value
    bits = {
        "dac": value("analog.dac_bits"),
        "adc_draft": value("analog.adc.draft_bits"),
        "adc_residual": value("analog.adc.residual_bits"),
    }
    payload: dict[str, Any] = {
        name: {"bits": bits[name], **{key: value(f"{name}.{key}") for key in CONVERTER_FIELDS}} for name in bits
    }
    features = hardware.library_figures["digital"].get("features")
    payload["digital"] = {
        **{unit: {key: value(f"digital.{unit}.{key}") for key in PER_MAC_FIELDS} for unit in DIGITAL_UNITS},
        "features": None if features is None else {feature: features.get(feature) for feature in FEATURES},
        "digital_overhead_area_mm2_per_layer": value("digital.digital_overhead_area_mm2_per_layer"),
    }
    payload["name"] = hardware.library
    payload["digital_feature_mapping"] = feature_mapping(hardware)
    if any(hardware.switches.get(f"delta_readout.{mode}") for mode in ("draft", "verify")):
        payload["delta_readout"] = _delta_readout(hardware)
    for section, skip in ((SOC, HARDWARE_ONLY_SOC_FIELDS), (PERIPHERY, ()), (LEAKAGE, ()), (MEMORY, ("kv_cache",))):
        if section[0] in hardware.library_figures:
            payload[section[0]] = _library_defaults(hardware, section, skip)
    return payload
