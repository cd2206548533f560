"""The typed grammar: dtypes, tensor types, value intervals, the op table and the grammar config."""

from jaxsynth.grammar.config import ConfigError, GrammarConfig, builtin_names, load_config, parse_config
from jaxsynth.grammar.ops import CONTROL, OPS, OPS_BY_CATEGORY, REGISTRY, get_op, unavailable_ops
from jaxsynth.grammar.ops_control import ControlSpec
from jaxsynth.grammar.opspec import CATEGORIES, OpSpec
from jaxsynth.grammar.types import DType, Interval, TensorType

__all__ = [
    "CATEGORIES",
    "CONTROL",
    "OPS",
    "OPS_BY_CATEGORY",
    "REGISTRY",
    "ConfigError",
    "ControlSpec",
    "DType",
    "GrammarConfig",
    "Interval",
    "OpSpec",
    "TensorType",
    "builtin_names",
    "get_op",
    "load_config",
    "parse_config",
    "unavailable_ops",
]
