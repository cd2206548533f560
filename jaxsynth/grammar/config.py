"""Grammar config: TOML decoded into typed msgspec Structs, validated with errors that name the key."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Annotated

import msgspec

from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.opspec import CATEGORIES, available
from jaxsynth.grammar.types import X64_ONLY, DType


class ConfigError(ValueError):
    """A grammar config that cannot be used; the message names the key and what is allowed."""


class _Base(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


Count = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Weight = Annotated[float, msgspec.Meta(ge=0.0, le=1e6)]


class ProgramBounds(_Base, frozen=True):
    """Size and shape of each sampled function."""

    min_nodes: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 4
    max_nodes: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    max_depth: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8
    max_nesting: Annotated[int, msgspec.Meta(ge=0, le=4)] = 2
    min_inputs: Annotated[int, msgspec.Meta(ge=1, le=32)] = 1
    max_inputs: Annotated[int, msgspec.Meta(ge=1, le=32)] = 4
    min_outputs: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1
    max_outputs: Annotated[int, msgspec.Meta(ge=1, le=8)] = 2
    share_prob: Probability = 0.3
    literal_prob: Probability = 0.25
    #: Chance that a value of the function body is built by a composite (``[composites]``), when any has weight.
    composite_prob: Probability = 0.5
    #: Chance that a program takes some inputs as one pytree argument (a ``params`` dict, possibly nested,
    #: or a ``state`` tuple), and, independently, that it returns some outputs as a dict or tuple.
    pytree_prob: Probability = 0.0
    #: Chance that a PRNG key is a key-typed program input rather than derived inside. JAX lowers a key
    #: argument with a sharding annotation whose text depends on the partitioner (Shardy by default,
    #: GSPMD in jaxsynth's lowering), so these records' StableHLO/HLO differ from JAX's default there.
    key_input_prob: Probability = 0.0


class TypeBounds(_Base, frozen=True):
    """Which dtypes (with sampling weights), ranks and dimension sizes appear."""

    dtypes: dict[str, Weight] = msgspec.field(
        default_factory=lambda: {"float32": 6.0, "float16": 1.0, "bfloat16": 1.0, "int32": 2.0, "int8": 0.5,
                                 "uint8": 0.5, "bool": 1.0}
    )
    min_rank: Annotated[int, msgspec.Meta(ge=0, le=3)] = 0
    max_rank: Annotated[int, msgspec.Meta(ge=0, le=3)] = 3
    min_dim: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 1
    max_dim: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 8  # large shapes: fuzz swarm testing
    x64: bool = False
    #: fuzzing only: inputs include NaN, ±Inf, -0.0, subnormals and integer extremes (integer arithmetic
    #: wraps), and only ops with defined special-value semantics are sampled (``jaxsynth.fuzz.special``)
    special_values: bool = False
    #: Shape classes (``small``, ``medium``, ``large``, see ``DIM_CLASSES``) with sampling weights: each program
    #: draws its dims from one class. Empty (the default): dims come from ``[min_dim, max_dim]``.
    dim_classes: dict[str, Weight] = msgspec.field(default_factory=dict)
    #: Upper bound on the elements of any one value (keeps large dims from making huge tensors).
    max_elements: Annotated[int, msgspec.Meta(ge=1, le=1 << 24)] = 1 << 20


#: Shape classes: name -> (lowest, highest) dim.
DIM_CLASSES: dict[str, tuple[int, int]] = {"small": (1, 8), "medium": (16, 256), "large": (512, 2048)}


class Weights(_Base, frozen=True):
    """Sampling weights: an op's weight is its category weight times its own (both default 1)."""

    categories: dict[str, Weight] = msgspec.field(default_factory=dict)
    ops: dict[str, Weight] = msgspec.field(default_factory=dict)


class Transforms(_Base, frozen=True):
    """Transformed variants of each program stored beside its IR texts (all off by default).

    ``grad``: the JAXPR of ``jax.grad`` of a scalarized output (the sum of every floating-point output,
    in float32) w.r.t. every floating-point input; ``None`` when the program has no floating-point
    input or output. ``vmap``: the JAXPR of ``jax.vmap`` over a new leading batch axis of size
    ``vmap_batch`` on every input.
    """

    grad: bool = False
    vmap: bool = False
    vmap_batch: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4


class DeadCode(_Base, frozen=True):
    """Constructs that compute nothing useful. Each is never emitted unless its key is true (fuzzing
    configs may ask for them); ``jaxsynth stats`` reports the rate of each (``jaxsynth.dataset.deadcode``)."""

    zero_trip_loops: bool = False  #: ``lax.fori_loop(0, 0, ...)``, a while loop that never runs
    unused_params: bool = False  #: body parameters and loop carries the body never reads
    identical_select: bool = False  #: ``jnp.where(c, x, x)``
    reduce_broadcast: bool = False  #: ``jnp.broadcast_to(jnp.mean(x), shape)`` adapters
    single_use_temporaries: bool = False  #: ``v0 = ...; return v0``


#: Spellings each op can be rendered with (the first is the one ``generic`` programs mostly use).
SPELLINGS: dict[str, tuple[str, ...]] = {
    "matmul": ("@", "jnp.matmul", "jnp.dot", "jnp.einsum"),
    "reductions": ("function", "method"),
    "relu": ("jnp.maximum", "jax.nn.relu"),
    "gelu": ("jax.nn.gelu", "manual"),
    "softmax": ("jax.nn.softmax", "manual"),
    # multi-head attention: scores, mask and softmax spelled out, or the fused jax.nn.dot_product_attention
    "attention": ("manual", "jax.nn.dot_product_attention"),
    "log_softmax": ("jax.nn.log_softmax", "manual"),
    "embedding": ("jnp.take", "index"),  # jnp.take(table, ids, axis=0) or table[ids]
    "variance": ("manual", "jnp.var"),  # layer norm: jnp.mean(jnp.square(x - mean)) or jnp.var(x)
}


class Style(_Base, frozen=True):
    """How programs read: names and spellings.

    ``names``: ``generic`` (``f(x0, x1)``, ``v0``) or ``idiomatic`` (names from the vocabulary of the
    composite that made each value: ``logits``, ``attn_weights``, ``params_dense_0_kernel``).
    ``spellings``: pin one spelling per key of ``SPELLINGS`` (``matmul = "jnp.einsum"``); unpinned
    ones are drawn from the seed.
    """

    names: str = "generic"
    spellings: dict[str, str] = msgspec.field(default_factory=dict)


class GrammarConfig(_Base, frozen=True):
    name: str = "custom"
    function_name: str = "f"
    program: ProgramBounds = msgspec.field(default_factory=ProgramBounds)
    types: TypeBounds = msgspec.field(default_factory=TypeBounds)
    weights: Weights = msgspec.field(default_factory=Weights)
    transforms: Transforms = msgspec.field(default_factory=Transforms)
    dead_code: DeadCode = msgspec.field(default_factory=DeadCode)
    style: Style = msgspec.field(default_factory=Style)
    #: Composite productions (``jaxsynth.synth.composite``) with sampling weights; empty: none.
    composites: dict[str, Weight] = msgspec.field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Stable content hash of the settings: independent of key order, comments and the config's name."""
        settings = msgspec.structs.replace(self, name="")
        return hashlib.sha256(msgspec.json.encode(settings, order="sorted")).hexdigest()[:16]

    def dtype_weights(self) -> dict[DType, float]:
        return {DType.parse(name): w for name, w in sorted(self.types.dtypes.items()) if w > 0}

    def allows(self, name: str) -> bool:
        """Whether op ``name`` may appear at all (a weight of 0 means never, adapters included)."""
        return self.op_weight(name) > 0

    def op_weight(self, name: str) -> float:
        """The op's sampling weight; 0 where the installed JAX lacks an API its rendering needs."""
        spec = REGISTRY[name]
        if not available(spec.since):
            return 0.0
        return self.weights.categories.get(spec.category, 1.0) * self.weights.ops.get(name, 1.0) * spec.weight


def _check_keys(where: str, keys: object, allowed: list[str]) -> None:
    for key in keys:  # type: ignore[attr-defined]
        if key not in allowed:
            raise ConfigError(f"config key `{where}.{key}`: unknown name; allowed: {', '.join(allowed)}")


def _check_order(lo_key: str, lo: int, hi_key: str, hi: int) -> None:
    if lo > hi:
        raise ConfigError(f"config key `{lo_key}` = {lo} must be <= `{hi_key}` = {hi}")


def validate(config: GrammarConfig) -> GrammarConfig:
    """Cross-field checks msgspec cannot express; returns the config unchanged when valid."""
    _check_keys("types.dtypes", config.types.dtypes, [d.name for d in DType if not d.is_key])
    _check_keys("weights.categories", config.weights.categories, list(CATEGORIES))
    _check_keys("weights.ops", config.weights.ops, sorted(REGISTRY))
    p, t = config.program, config.types
    _check_order("program.min_nodes", p.min_nodes, "program.max_nodes", p.max_nodes)
    _check_order("program.min_inputs", p.min_inputs, "program.max_inputs", p.max_inputs)
    _check_order("program.min_outputs", p.min_outputs, "program.max_outputs", p.max_outputs)
    _check_order("types.min_rank", t.min_rank, "types.max_rank", t.max_rank)
    _check_order("types.min_dim", t.min_dim, "types.max_dim", t.max_dim)
    if not any(w > 0 for w in t.dtypes.values()):
        raise ConfigError("config key `types.dtypes`: at least one dtype needs a weight > 0")
    for dtype in sorted(X64_ONLY, key=lambda d: d.name):
        if t.dtypes.get(dtype.name, 0) > 0 and not t.x64:
            raise ConfigError(f"config key `types.dtypes.{dtype.name}` needs `types.x64 = true` (JAX's x64 mode)")
    if t.special_values:  # special-value inputs and their comparisons are real (NaN, ±Inf, -0.0, integer extremes)
        for name in sorted(n for n, w in t.dtypes.items() if w > 0 and DType[n].is_complex):
            raise ConfigError(f"config key `types.dtypes.{name}`: special-values mode (`types.special_values` or "
                              "`--special`) takes real dtypes only")
    if not any(config.op_weight(name) > 0 for name in REGISTRY):
        raise ConfigError("config keys `weights`: every op has weight 0; allowed categories: " + ", ".join(CATEGORIES))
    _check_keys("types.dim_classes", t.dim_classes, list(DIM_CLASSES))
    if t.dim_classes and not any(w > 0 for w in t.dim_classes.values()):
        raise ConfigError("config key `types.dim_classes`: at least one class needs a weight > 0")
    if config.style.names not in ("generic", "idiomatic"):
        raise ConfigError(f"config key `style.names` = {config.style.names!r}; allowed: generic, idiomatic")
    _check_keys("style.spellings", config.style.spellings, list(SPELLINGS))
    for key, value in config.style.spellings.items():
        if value not in SPELLINGS[key]:
            raise ConfigError(f"config key `style.spellings.{key}` = {value!r}; allowed: {', '.join(SPELLINGS[key])}")
    if not config.function_name.isidentifier():
        raise ConfigError(f"config key `function_name` = {config.function_name!r} is not a Python identifier")
    return config


_PATH = re.compile(r"\$\.?([\w.\[\]]*)")
_SECTIONS = {
    "": GrammarConfig,
    "program": ProgramBounds,
    "types": TypeBounds,
    "weights": Weights,
    "transforms": Transforms,
    "dead_code": DeadCode,
    "style": Style,
}


def _dict_key(raw: object, where: str, error_message: str) -> tuple[str, object] | None:
    """``(path, value)`` of the dict entry that msgspec names ``where`` = ``a.b[...]``: the first key of
    that dict whose entry alone reproduces the error (``a.b.key``), or ``None``."""
    head, _, tail = where.partition("[...]")
    if not isinstance(raw, dict) or not head or tail:
        return None
    parts = head.split(".")
    node: object = raw
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        trial = copy.deepcopy(raw)
        target = trial
        for part in parts:
            target = target[part]
        target.clear()
        target[key] = value
        try:
            msgspec.convert(trial, type=GrammarConfig)
        except msgspec.ValidationError as exc:
            if str(exc) == error_message:
                return f"{head}.{key}", value
    return None


def _explain(error: msgspec.MsgspecError, raw: object = None) -> str:
    message = str(error)
    match = _PATH.search(message)
    where = match.group(1) if match else ""
    value = ""
    found = _dict_key(raw, where, message) if "[...]" in where else None
    if found is not None:
        where, value = found[0], f" = {found[1]!r}"
    if message.startswith("Object contains unknown field"):
        field = re.search(r"`([^`]*)`", message)
        struct = _SECTIONS.get(where)
        allowed = ", ".join(struct.__struct_fields__) if struct else "see README"
        key = f"{where}.{field.group(1)}" if where and field else (field.group(1) if field else where)
        return f"config key `{key}`: unknown key; allowed: {allowed}"
    detail = re.sub(r"\s*-\s*at\s*`\$[^`]*`", "", message)
    return f"config key `{where or '(top level)'}`{value}: {detail}"


def _dtype_spellings(raw: object) -> None:
    """``types.dtypes`` keys in either spelling (``f32`` or ``float32``) become the long name, in place."""
    types = raw.get("types") if isinstance(raw, dict) else None
    dtypes = types.get("dtypes") if isinstance(types, dict) else None
    if not isinstance(dtypes, dict):
        return
    renamed: dict[object, object] = {}
    for key, weight in dtypes.items():
        name = key
        if isinstance(key, str):
            try:
                name = DType.parse(key).name
            except ValueError:
                pass  # reported by validate() with the allowed names
        if name in renamed:
            raise ConfigError(f"config key `types.dtypes.{key}` names the same dtype as another key ({name})")
        renamed[name] = weight
    dtypes.clear()
    dtypes.update(renamed)


def parse_config(text: str, name: str = "custom") -> GrammarConfig:
    """Decode and validate TOML text. Raises ConfigError with a one-line, key-naming message."""
    try:
        raw = msgspec.toml.decode(text.encode())
    except msgspec.DecodeError as exc:
        raise ConfigError(f"config is not valid TOML: {exc}") from None
    if isinstance(raw, dict):
        raw.setdefault("name", name)
    _dtype_spellings(raw)
    try:
        config = msgspec.convert(raw, type=GrammarConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(exc, raw)) from None
    return validate(config)


def builtin_dir() -> Path:
    """Directory of the shipped configs: ``corpora/`` in a checkout, ``jaxsynth/_corpora`` in a wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_corpora", here.parent / "corpora"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("the built-in configs (corpora/) are missing from this installation")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.toml"))


def load_config(name_or_path: str | Path = "default") -> GrammarConfig:
    """A built-in config by name (``default``, ``elementwise``, ...) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.is_file():  # a folder named like a built-in config is not a config
        candidate = builtin_dir() / f"{name_or_path}.toml"
        if not candidate.exists():
            known = ", ".join(builtin_names())
            raise ConfigError(f"unknown config {str(name_or_path)!r}; built-in: {known}, or a path to a .toml file")
        path = candidate
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config {str(path)!r}: {exc.strerror}") from None
    return parse_config(text, name=path.stem)
