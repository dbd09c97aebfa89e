"""ML log presets for the parse transform: name -> parser returning fields to merge, or ``None``.

Each parser takes an event's ``message`` and returns flat dotted fields (ECS names where ECS has
one, ``ml.*`` otherwise), or ``None`` when the text is not of its kind. A returned ``message``
replaces the event's message; a returned ``tags`` list is meant to be *added* to the event's tags.

Presets (usable by name as the parse transform's ``format``):

* ``python_traceback`` -- a whole (multi-line) traceback -> ``error.type``, ``error.message``,
  ``error.stack_trace``. Lines may carry a repeated log prefix (TorchServe writes its log4j prefix on
  every line); the prefix of the ``Traceback`` line is stripped from every line that has it.
* ``torch_rank`` -- ``[rank3]:`` / ``[default3]:`` prefixes (torchrun, DeepSpeed) -> ``ml.rank``, the rest
  stays the message; a following c10 prefix ``[W610 06:17:01.666 File.cpp:12]`` gives level and origin.
* ``training_progress`` -- ``key=value`` / ``key: value`` training lines (DeepSpeed, Caffe, plain
  prints) -> ``ml.epoch``, ``ml.step``, ``ml.loss``, ``ml.accuracy``, ``ml.learning_rate``, ...
* ``hf_trainer`` -- Hugging Face Trainer dict lines ``{'loss': 0.51, 'learning_rate': 4e-05, 'epoch': 1.0}``,
  read with ``ast.literal_eval`` (literals only, never ``eval``).
* ``keras`` -- ``Epoch 3/10`` and ``1875/1875 [====] - 5s 3ms/step - loss: 0.1234 - accuracy: 0.9600``.
* ``torchserve_metrics`` -- ``TS_METRICS``/``MODEL_METRICS`` lines ``Name.Unit:value|#dims|#hostname:h,timestamp:t``.
* ``vllm`` -- vLLM server lines, production-stack router lines, uvicorn lines, tqdm progress; ANSI
  colour codes and carriage-return progress redraws are removed.
* ``vllm_access`` -- uvicorn access lines ``INFO:     127.0.0.1:47344 - "POST /v1/completions HTTP/1.1" 200 OK``.
* ``cuda_oom`` -- CUDA out-of-memory errors -> tag ``cuda_oom`` and sizes in bytes (``ml.cuda.*_bytes``).

Times without a zone are read as UTC; a year-less date gets this year, or last year if that would
put it more than a day in the future.

Every parser first makes cheap literal tests (a substring every match must contain, the first
character) so that a line of another kind costs well under a microsecond: the regexes cost 3-12 us
on a line they do not match, and ``auto`` tries these presets on every line no built-in format takes.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from typing import Any

from logferry.transforms.parse.timestamps import Clock

Fields = dict[str, Any]

# CSI sequences (colours, cursor moves), OSC sequences (titles, links) and two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(s: str) -> str:
    """``s`` without ANSI escape sequences."""
    return _ANSI.sub("", s) if "\x1b" in s else s


def _last_redraw(s: str) -> str:
    """The text a terminal would show for a line redrawn with bare CRs (tqdm): the last non-empty part."""
    if "\r" not in s:
        return s
    parts = [p for p in s.split("\r") if p.strip()]
    return parts[-1] if parts else ""


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _num(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _snake(name: str) -> str:
    """``RunningAvgSamplesPerSec`` -> ``running_avg_samples_per_sec``; ``Train-Loss`` -> ``train_loss``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()


def _utc_iso(y: int, mo: int, d: int, hms: str, frac: str = "") -> str:
    return f"{y:04d}-{mo:02d}-{d:02d}T{hms}{'.' + frac if frac else ''}Z"


# The parsers' own year inference (these presets read times as UTC, with the real clock).
_infer_year = Clock("UTC").infer_year


# -- python_traceback ----------------------------------------------------------------------------
_TB_HEADER = "Traceback (most recent call last):"
_EXC_LINE = re.compile(r"([A-Za-z_][\w.]*)(?::\s?(.*))?$")


def _prefix_stripper(prefix: str) -> Callable[[str], str]:
    """Strip a log prefix that repeats on every line with different digits (timestamps, thread ids)."""
    if not prefix.strip():
        n = len(prefix)
        return lambda line: line[n:] if line.startswith(prefix) else line
    pattern = re.sub(r"\\?\d+", r"\\d+", re.escape(prefix.rstrip()))
    rx = re.compile(pattern + r"(?: |$)")

    def strip(line: str) -> str:
        m = rx.match(line)
        return line[m.end():] if m else line

    return strip


def parse_python_traceback(message: str) -> Fields | None:
    start = message.find(_TB_HEADER)
    if start < 0:
        return None
    line_start = message.rfind("\n", 0, start) + 1
    strip = _prefix_stripper(message[line_start:start])
    lines = [strip(line.rstrip("\r")) for line in message[line_start:].split("\n")]
    # Walk the chain: header, indented frames, exception line, optional "During handling ..." and the next
    # header. The last exception line found is the error; a traceback cut off by a dying writer keeps its
    # frames, and unrelated text after the traceback is left out of the stack trace.
    last_exc: re.Match[str] | None = None
    in_frames = False
    end = 0
    for i, line in enumerate(lines):
        if line.startswith(_TB_HEADER):
            in_frames, end = True, i + 1
        elif not line.strip():
            continue
        elif line.startswith(("During handling of the above exception", "The above exception was the direct cause")):
            if in_frames:
                break
            end = i + 1
        elif line[0] in " \t":
            if not in_frames:
                break
            end = i + 1
        elif in_frames and (m := _EXC_LINE.match(line)):
            last_exc, in_frames, end = m, False, i + 1
        else:
            break
    out: Fields = {}
    if last_exc is not None:
        out["error.type"] = last_exc.group(1)
        out["error.message"] = (last_exc.group(2) or "").strip()
    out["error.stack_trace"] = "\n".join(lines[:end])
    return out


# -- torch_rank ------------------------------------------------------------------------------------
_RANK_PREFIX = re.compile(r"\[(?:rank|default)(\d+)\]:\s?")
_C10_PREFIX = re.compile(r"\[([IWEF])(\d{1,2})(\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))? ([^\]\s:]+):(\d+)\] ?")
_C10_LEVELS = {"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "FATAL"}


def parse_torch_rank(message: str) -> Fields | None:
    if message[:1] != "[":
        return None
    m = _RANK_PREFIX.match(message)
    if m is None:
        return None
    rest = message[m.end():]
    out: Fields = {"ml.rank": int(m.group(1))}
    c = _C10_PREFIX.match(rest)
    if c:
        mo, d = int(c.group(2)), int(c.group(3))
        out["log.level"] = _C10_LEVELS[c.group(1)]
        out["@timestamp"] = _utc_iso(_infer_year(mo, d), mo, d, c.group(4), (c.group(5) or "")[:9])
        out["log.origin.file.name"] = c.group(6)
        out["log.origin.file.line"] = int(c.group(7))
        rest = rest[c.end():]
    out["message"] = rest
    return out


# -- training_progress -------------------------------------------------------------------------------
_PAIR = re.compile(
    r"(?<![\w.])([A-Za-z_][\w]*)\s*[:=]\s*(\[\s*)?(" + _NUMBER + r")([A-Za-z%]+)?(?![\w.])")
_WORD_COUNTER = re.compile(r"\b(epoch|step|iteration|iter|rank)\s+(\d+)(?:\s*/\s*(\d+))?\b", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2,
               "gb": 1024**3, "gib": 1024**3, "tb": 1024**4, "tib": 1024**4}
_TIME_UNITS = {"s": "_secs", "ms": "_ms", "%": "_pct"}
_ALIASES = {
    "global_step": "step", "iteration": "step", "iter": "step", "it": "step",
    "lr": "learning_rate", "acc": "accuracy", "ppl": "perplexity",
}
_CORE_KEYS = frozenset({"epoch", "step", "loss", "accuracy", "learning_rate", "perplexity"})


@functools.lru_cache(maxsize=4096)
def _metric_key(raw: str) -> str:
    key = _snake(raw)
    key = _ALIASES.get(key, key)
    if key.endswith("_acc"):
        key = key[:-4] + "_accuracy"
    return key


def _is_core(key: str) -> bool:
    return key in _CORE_KEYS or key.endswith(("_loss", "_accuracy", "_step"))


# Every core key contains one of these (lower case, after `_snake`, which only inserts separators); the
# two-letter aliases (lr, it) and ppl are checked as keys with the regex below.
_CORE_HINTS = ("epoch", "step", "iter", "loss", "acc", "learning", "perplexity")
_SHORT_CORE_KEY = re.compile(r"(?<![\w.])(?:lr|it|ppl)\s*[:=]")


def _may_have_core_key(message: str) -> bool:
    low = message.lower()
    for hint in _CORE_HINTS:
        if hint in low:
            return True
    return ("lr" in low or "it" in low or "ppl" in low) and _SHORT_CORE_KEY.search(low) is not None


def parse_training_progress(message: str) -> Fields | None:
    if not _may_have_core_key(message):
        return None
    out: Fields = {}
    core = False
    for m in _WORD_COUNTER.finditer(message):
        key = _metric_key(m.group(1))
        out[f"ml.{key}"] = int(m.group(2))
        if m.group(3):
            out[f"ml.{key}s_total"] = int(m.group(3))
        core = core or _is_core(key)
    for m in _PAIR.finditer(message):
        key = _metric_key(m.group(1))
        value = _num(m.group(3))
        unit = m.group(4)
        if unit:
            u = unit.lower()
            if u in _SIZE_UNITS:
                key, value = key + "_bytes", int(value * _SIZE_UNITS[u])
            elif u in _TIME_UNITS:
                key += _TIME_UNITS[u]
            else:
                continue
        if key == "step" and "ml.step" in out and m.group(1).lower() == "step":
            continue  # global_step already set wins over a local step counter
        out[f"ml.{key}"] = value
        core = core or _is_core(key)
    return out if core else None


# -- hf_trainer ----------------------------------------------------------------------------------------
_HF_MAX_CHARS = 16384
_NON_FINITE = re.compile(r"(?<=[:\[,(]\s)(-?(?:nan|inf))\b")
_NON_FINITE_LITERALS = {"nan": "None", "-nan": "None", "inf": "1e999", "-inf": "-1e999"}
_HF_KEY = re.compile(r"loss|epoch|learning_rate|step|grad_norm|^eval_|^train_|^test_")


def parse_hf_trainer(message: str) -> Fields | None:
    start = message.find("{")
    end = message.rfind("}")
    if start < 0 or end < start or end - start > _HF_MAX_CHARS:
        return None
    if message.find("'", start, end) < 0 and message.find('"', start, end) < 0:
        return None  # no quoted key, so no field could come out
    # repr() writes non-finite floats as bare names, which are not literals: map them to ones that are.
    text = _NON_FINITE.sub(lambda m: _NON_FINITE_LITERALS[m.group(1)], message[start:end + 1])
    try:
        data = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    out: Fields = {}
    for k, v in data.items():
        if not isinstance(k, str):
            continue
        if isinstance(v, str):
            try:
                v = _num(v.strip())
            except ValueError:
                continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        out[f"ml.{_metric_key(k)}"] = v
    if not any(_HF_KEY.search(k[3:]) for k in out):
        return None
    return out


# -- keras -------------------------------------------------------------------------------------------
_KERAS_EPOCH = re.compile(r"\bEpoch (\d+)/(\d+)")
_KERAS_STEPS = re.compile(r"(?:^|\s)(\d+)/(\d+) (?:\[[=>.]*\]|[━─ ]+|-)")
_KERAS_METRIC = re.compile(r"(?:^|\s)- ([A-Za-z_]\w*): (" + _NUMBER + r")(?![\w.])")


def parse_keras(message: str) -> Fields | None:
    if "Epoch " not in message and " - " not in message:
        return None  # cheap exit: every Keras progress line has one of these
    text = _last_redraw(message)
    out: Fields = {}
    if "Epoch " in message and (m := _KERAS_EPOCH.search(message)):
        out["ml.epoch"] = int(m.group(1))
        out["ml.epochs_total"] = int(m.group(2))
    if "/" in text and (m := _KERAS_STEPS.search(text)):
        out["ml.step"] = int(m.group(1))
        out["ml.steps_total"] = int(m.group(2))
    if "- " not in text:
        return out if "ml.epoch" in out else None
    for m in _KERAS_METRIC.finditer(text):
        key = _metric_key(m.group(1))
        if key == "eta":
            continue
        out[f"ml.{key}"] = _num(m.group(2))
    if "ml.epoch" not in out and not any(_is_core(k[3:]) for k in out if k != "ml.step"):
        return None
    return out


# -- torchserve_metrics ---------------------------------------------------------------------------------
_TS_METRIC = re.compile(
    r"(?:^|\s)([A-Za-z_]\w*)\.([A-Za-z]+):(" + _NUMBER + r")\|#([^|]*)\|#(\S*)\s*$")


def parse_torchserve_metrics(message: str) -> Fields | None:
    if "|#" not in message:
        return None
    m = _TS_METRIC.search(message)
    if m is None:
        return None
    out: Fields = {
        "ml.metric.name": m.group(1),
        "ml.metric.unit": m.group(2),
        "ml.metric.value": float(m.group(3)),
    }
    for item in m.group(4).split(","):
        k, sep, v = item.partition(":")
        if sep and k:
            out[f"ml.metric.dimensions.{k}"] = v
    for item in m.group(5).split(","):
        k, sep, v = item.partition(":")
        if not sep:
            continue
        if k == "hostname":
            out["host.hostname"] = v
        elif k == "timestamp" and v.isdigit():
            out["ml.metric.timestamp"] = int(v)
        elif k == "requestID":
            out["http.request.id"] = v
        elif k:
            out[f"ml.metric.dimensions.{k}"] = v
    return out


# -- vllm / uvicorn ------------------------------------------------------------------------------------------
_LEVEL = r"(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|TRACE)"
_UVICORN_ACCESS = re.compile(
    _LEVEL + r':\s+(\[?[0-9A-Fa-f.:]+?\]?):(\d+) - "([A-Z]+) (\S+) HTTP/([\d.]+)" (\d{3})(?: (.*))?$')
_UVICORN_LINE = re.compile(_LEVEL + r":\s+(.*)$")
_VLLM_LINE = re.compile(
    r"(?:\((\w+)(?: rank=(\d+))?(?: pid=(\d+))?\) )?" + _LEVEL
    + r" (\d\d)-(\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))? \[?([^\]\s:]+):(\d+)\] ?(.*)$")
_ROUTER_LINE = re.compile(
    r"\[(\d{4})-(\d\d)-(\d\d) (\d\d:\d\d:\d\d)(?:[,.](\d+))?\] " + _LEVEL
    + r":? ?(.*?)(?: \(([^():\s]+):(\d+):([\w.]+)\))?$")
_TQDM = re.compile(r"(.*?):\s+(\d+)%")
# First characters of a line _UVICORN_ACCESS / _UVICORN_LINE can match (a level name, or colour codes).
_LEVEL_STARTS = frozenset("DIWECT\x1b")


def parse_vllm_access(message: str) -> Fields | None:
    if "HTTP/" not in message or message[:1] not in _LEVEL_STARTS:
        return None
    m = _UVICORN_ACCESS.match(strip_ansi(message))
    if m is None:
        return None
    target = m.group(5)
    path, _, query = target.partition("?")
    out: Fields = {
        "log.level": m.group(1),
        "source.ip": m.group(2).strip("[]"),
        "source.port": int(m.group(3)),
        "http.request.method": m.group(4),
        "url.original": target,
        "url.path": path,
        "http.version": m.group(6),
        "http.response.status_code": int(m.group(7)),
        "message": f"{m.group(4)} {target} {m.group(7)}",
    }
    if query:
        out["url.query"] = query
    return out


def parse_vllm(message: str) -> Fields | None:
    text = _last_redraw(strip_ansi(message)).rstrip("\n")
    # Each pattern below is anchored at the start: the first character says which can match.
    first = text[:1]
    by_level = first in _LEVEL_STARTS
    if (by_level or first == "(") and (m := _VLLM_LINE.match(text)):
        mo, d = int(m.group(5)), int(m.group(6))
        out: Fields = {
            "log.level": m.group(4),
            "@timestamp": _utc_iso(_infer_year(mo, d), mo, d, m.group(7), m.group(8) or ""),
            "log.origin.file.name": m.group(9),
            "log.origin.file.line": int(m.group(10)),
            "message": m.group(11),
        }
        if m.group(1):
            out["process.name"] = m.group(1)
        if m.group(2):
            out["ml.rank"] = int(m.group(2))
        if m.group(3):
            out["process.pid"] = int(m.group(3))
        return out
    if first == "[" and (m := _ROUTER_LINE.match(text)):
        out = {
            "@timestamp": _utc_iso(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5) or ""),
            "log.level": m.group(6),
            "message": m.group(7),
        }
        if m.group(8):
            out["log.origin.file.name"] = m.group(8)
            out["log.origin.file.line"] = int(m.group(9))
            out["log.logger"] = m.group(10)
        return out
    if by_level and (access := parse_vllm_access(text)) is not None:
        return access
    if by_level and (m := _UVICORN_LINE.match(text)):
        out = {"log.level": m.group(1), "message": m.group(2)}
        if pid := re.search(r"server process \[(\d+)\]", m.group(2)):
            out["process.pid"] = int(pid.group(1))
        return out
    if (rank := parse_torch_rank(text)) is not None:
        return rank
    if "%" in text and (m := _TQDM.match(text)):
        return {"message": text.strip(), "ml.progress_pct": int(m.group(2))}
    if text != message:
        return {"message": text}  # not a known line, but still cleaned of colour codes and redraws
    return None


# -- cuda_oom ------------------------------------------------------------------------------------------------
_OOM = re.compile(r"CUDA out of memory|CUDA error: out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED"
                  r"|OOM when allocating", re.IGNORECASE)
_SIZE = r"(\d+(?:\.\d+)?) ?(B|bytes|KiB|MiB|GiB|TiB|KB|MB|GB|TB)"
_OOM_SIZES = [
    ("ml.cuda.requested_bytes", re.compile(r"Tried to allocate " + _SIZE)),
    ("ml.cuda.total_bytes", re.compile(_SIZE + r" total capacity")),
    ("ml.cuda.total_bytes", re.compile(r"total capacity of " + _SIZE)),
    ("ml.cuda.free_bytes", re.compile(_SIZE + r" free")),
    ("ml.cuda.free_bytes", re.compile(r"of which " + _SIZE + r" is free")),
    ("ml.cuda.allocated_bytes", re.compile(_SIZE + r" already allocated")),
    ("ml.cuda.allocated_bytes", re.compile(_SIZE + r" is allocated by PyTorch")),
    ("ml.cuda.reserved_bytes", re.compile(_SIZE + r" reserved in total by PyTorch")),
    ("ml.cuda.reserved_unallocated_bytes", re.compile(_SIZE + r" is reserved by PyTorch but unallocated")),
    ("ml.cuda.process_in_use_bytes", re.compile(r"this process has " + _SIZE + r" memory in use")),
]
_OOM_DEVICE = re.compile(r"\bGPU (\d+)")
_OOM_ERROR_TYPE = re.compile(r"(?:^|\n|\s)((?:[A-Za-z_][\w]*\.)*(?:OutOfMemoryError|RuntimeError|ResourceExhaustedError)):")


def _bytes(value: str, unit: str) -> int:
    u = unit.lower()
    return int(float(value) * (1 if u in ("b", "bytes") else _SIZE_UNITS[u]))


def parse_cuda_oom(message: str) -> Fields | None:
    low = message.lower()  # _OOM ignores case: every alternative contains one of these in lower case
    if "memory" not in low and "oom when" not in low and "alloc_failed" not in low:
        return None
    if _OOM.search(message) is None:
        return None
    out: Fields = {"tags": ["cuda_oom"]}
    for field, rx in _OOM_SIZES:
        if field not in out and (m := rx.search(message)):
            out[field] = _bytes(m.group(1), m.group(2))
    if m := _OOM_DEVICE.search(message):
        out["ml.cuda.device"] = int(m.group(1))
    if m := _OOM_ERROR_TYPE.search(message):
        out["error.type"] = m.group(1)
    return out


# Most specific first: the parse transform's `auto` format tries them in this order after its built-ins.
ML_FORMATS: dict[str, Callable[[str], dict[str, Any] | None]] = {
    "cuda_oom": parse_cuda_oom,
    "python_traceback": parse_python_traceback,
    "torchserve_metrics": parse_torchserve_metrics,
    "vllm_access": parse_vllm_access,
    "vllm": parse_vllm,
    "hf_trainer": parse_hf_trainer,
    "keras": parse_keras,
    "torch_rank": parse_torch_rank,
    "training_progress": parse_training_progress,
}
