"""The ML log presets of the parse transform, on real ML logs (excerpts in tests/data/ml, full files in ../shared)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import pytest

from logferry.agent.event import Batch
from logferry.agent.sources.file.config import MultilineConfig
from logferry.agent.sources.file.framing import Framed
from logferry.agent.sources.file.multiline import MultilineAggregator
from logferry.transforms.parse.ml import (
    ML_FORMATS,
    parse_cuda_oom,
    parse_hf_trainer,
    parse_keras,
    parse_python_traceback,
    parse_torch_rank,
    parse_torchserve_metrics,
    parse_training_progress,
    parse_vllm,
    parse_vllm_access,
    strip_ansi,
)
from logferry.transforms.parse.transform import ParseConfig
from tests.transforms.util import build, decode

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "ml"
CORPUS = REPO / ".." / "shared" / "corpus" / "ml"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared ML corpus (../shared/corpus/ml) not present")

# TorchServe writes its log4j prefix on every line of a traceback; the shipped `torchserve_traceback`
# multiline preset looks past it (the python_traceback rule after the prefix, plus dotted exception
# names that do not end in Error (onnxruntime's ...InvalidArgument).
_TS_PREFIX = re.compile(r"^\S+ \[[A-Z ]+\] \S+ MODEL_LOG - ?")


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def join_multiline(lines: list[str]) -> list[str]:
    """The events the file source's multiline aggregator makes of these lines (shipped TorchServe preset)."""
    agg = MultilineAggregator(MultilineConfig(preset="torchserve_traceback"))
    offsets = list(itertools.accumulate((len(x) + 1 for x in lines), initial=0))
    end = offsets.pop()
    return agg.push(Framed(lines, offsets, {}, end), 0.0).lines + agg.flush(end).lines


class TestMlFormats:
    def test_every_preset_is_registered_by_name(self) -> None:
        """Every preset named in the issue is reachable by name in ML_FORMATS."""
        assert set(ML_FORMATS) == {"python_traceback", "torch_rank", "training_progress", "hf_trainer", "keras",
                                   "torchserve_metrics", "vllm", "vllm_access", "cuda_oom"}

    def test_presets_return_none_for_unrelated_text(self) -> None:
        """A plain sentence is not claimed by any preset."""
        for name, fn in ML_FORMATS.items():
            assert fn("Torch worker started.") is None, name


class TestStripAnsi:
    def test_colour_codes_are_removed(self) -> None:
        """SGR colour sequences vanish and the text between them stays."""
        assert strip_ansi("\x1b[32;20m[x] INFO:\x1b[0m hi \x1b[3m(a.py:1:m)\x1b[0m") == "[x] INFO: hi (a.py:1:m)"

    def test_text_without_escapes_is_returned_unchanged(self) -> None:
        """A string without ESC is returned as is."""
        s = "no colours [1;2m here"
        assert strip_ansi(s) is s


class TestPythonTraceback:
    def test_prefixed_traceback_gives_type_message_and_clean_stack(self) -> None:
        """A TorchServe traceback whose lines all carry the log4j prefix yields error fields and a prefix-free stack."""
        block = "\n".join(read_lines(DATA / "torchserve_model_log_excerpt.log")[2:10])
        out = parse_python_traceback(block)
        assert out is not None
        assert out["error.type"] == "RuntimeError"
        assert out["error.message"] == "Could not infer dtype of dict"
        stack = out["error.stack_trace"].split("\n")
        assert stack[0] == "Traceback (most recent call last):"
        assert stack[1] == '  File "/home/ubuntu/serve/ts/service.py", line 102, in predict'
        assert stack[-1] == "RuntimeError: Could not infer dtype of dict"

    def test_chained_traceback_reports_the_last_exception(self) -> None:
        """With 'During handling of the above exception', the final exception (a SyntaxError) is the error."""
        events = join_multiline(read_lines(DATA / "torchserve_model_log_excerpt.log"))
        chained = [b for b in events if "During handling" in b]
        assert len(chained) == 1
        out = parse_python_traceback(chained[0])
        assert out is not None
        assert (out["error.type"], out["error.message"]) == ("SyntaxError", "invalid syntax")
        assert "ModuleNotFoundError: No module named 'base_handler'" in out["error.stack_trace"]
        assert "    if hasatrr(self.model, \"run\")" in out["error.stack_trace"]

    def test_plain_traceback_with_dotted_exception_type(self) -> None:
        """An unprefixed traceback keeps a dotted exception type whole."""
        tb = ('Traceback (most recent call last):\n  File "a.py", line 1, in <module>\n    json.loads("{")\n'
              "json.decoder.JSONDecodeError: Expecting property name: line 1 column 2 (char 1)")
        out = parse_python_traceback(tb)
        assert out is not None
        assert out["error.type"] == "json.decoder.JSONDecodeError"
        assert out["error.message"] == "Expecting property name: line 1 column 2 (char 1)"

    def test_truncated_traceback_has_stack_but_no_type(self) -> None:
        """A traceback cut off before its exception line keeps its frames and claims no error type."""
        tb = 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nListening on port: 9000'
        out = parse_python_traceback(tb)
        assert out is not None
        assert "error.type" not in out
        assert out["error.stack_trace"].endswith('in <module>')

    @needs_corpus
    def test_every_traceback_of_the_torchserve_model_log_arrives_as_one_event(self) -> None:
        """Through the file source's multiline aggregator, the 87 tracebacks make 76 events (chains stay whole).

        Every traceback line ends up inside a traceback event; all but the 2 tracebacks cut off by a dying
        worker parse with an error type.
        """
        lines = read_lines(CORPUS / "torchserve" / "pytest" / "model_log.log")
        events = join_multiline(lines)
        tracebacks = [e for e in events if "Traceback (most recent call last):" in e]
        assert sum(e.count("Traceback (most recent call last):") for e in tracebacks) == 87
        assert len(tracebacks) == 76
        assert not [e for e in events if "\n" not in e and _TS_PREFIX.sub("", e).startswith("  File ")]
        parsed = [parse_python_traceback(e) or {} for e in tracebacks]
        types = Counter(p.get("error.type") for p in parsed)
        assert types["RuntimeError"] == 18 and types["ModuleNotFoundError"] == 26 and types["SyntaxError"] == 5
        assert types["onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument"] == 7
        assert types[None] == 2
        for e, p in zip(tracebacks, parsed):
            assert "MODEL_LOG" not in p["error.stack_trace"]
            if p.get("error.type") is None:
                assert _TS_PREFIX.sub("", e.split("\n")[-1]).startswith("  File ")


class TestTorchRank:
    def test_rank_prefix_becomes_a_number_and_the_rest_the_message(self) -> None:
        """'[rank3]: text' gives ml.rank 3 and message 'text'."""
        assert parse_torch_rank("[rank3]: loss went NaN") == {"ml.rank": 3, "message": "loss went NaN"}

    @needs_corpus
    def test_vllm_nccl_warning_gives_rank_level_and_origin(self) -> None:
        """The PyTorch C++ warning in the vLLM log yields rank 0, WARNING and the C++ file and line."""
        line = next(x for x in read_lines(CORPUS / "vllm-production-stack" / "vllm_server.log")
                    if x.startswith("[rank0]"))
        out = parse_torch_rank(line)
        assert out is not None
        assert out["ml.rank"] == 0 and out["log.level"] == "WARNING"
        assert out["log.origin.file.name"] == "ProcessGroupNCCL.cpp" and out["log.origin.file.line"] == 1476
        assert out["@timestamp"].endswith("-06-10T06:17:01.666789213Z")
        assert out["message"].startswith("Warning: WARNING: destroy_process_group()")


class TestTrainingProgress:
    def test_deepspeed_rlhf_lines_give_numeric_loss_and_step(self) -> None:
        """DeepSpeed-Chat step-3 pipe lines give numeric epoch, step and loss fields."""
        lines = read_lines(DATA / "deepspeed_step3_excerpt.log")
        out = parse_training_progress(next(x for x in lines if x.startswith("epoch: 0|step: 1|")))
        assert out == {"ml.epoch": 0, "ml.step": 1, "ml.ppo_ep": 1, "ml.act_loss": 0.296630859375,
                       "ml.cri_loss": 0.1690673828125, "ml.unsuper_loss": 0.0}

    def test_deepspeed_log_dist_and_timer_lines(self) -> None:
        """'step=10, lr=[...]' and 'epoch=0/micro_step=10/global_step=10, MemAllocated=3.96GB' become numbers."""
        lines = read_lines(DATA / "deepspeed_step1_excerpt.log")
        dist = parse_training_progress(next(x for x in lines if "log_dist" in x))
        assert dist is not None
        assert dist["ml.step"] == 10 and dist["ml.rank"] == 0 and dist["ml.skipped"] == 6
        assert dist["ml.learning_rate"] == pytest.approx(9.649992967150629e-06)
        timer = parse_training_progress(next(x for x in lines if "timer.py" in x))
        assert timer is not None
        assert (timer["ml.epoch"], timer["ml.micro_step"], timer["ml.step"]) == (0, 10, 10)
        assert timer["ml.mem_allocated_bytes"] == int(3.96 * 1024**3)

    def test_deepspeed_overflow_line_is_not_progress(self) -> None:
        """A loss-scaler OVERFLOW notice carries no training metric and is not claimed."""
        lines = read_lines(DATA / "deepspeed_step1_excerpt.log")
        assert parse_training_progress(next(x for x in lines if "OVERFLOW" in x)) is None

    def test_caffe_iteration_lines(self) -> None:
        """Caffe 'Iteration 100 (...), loss = 0.224371' and 'Iteration 100, lr = 0.00992565' give step, loss, lr."""
        lines = read_lines(DATA / "caffe_train_excerpt.log")
        it = parse_training_progress(next(x for x in lines if "Iteration 100 (" in x))
        assert it == {"ml.step": 100, "ml.loss": 0.224371}
        lr = parse_training_progress(next(x for x in lines if "Iteration 100, lr" in x))
        assert lr == {"ml.step": 100, "ml.learning_rate": 0.00992565}

    @needs_corpus
    def test_whole_deepspeed_rlhf_log_yields_loss_for_every_step(self) -> None:
        """Every 'epoch: N|step: M|...' line of the step-3 log gives a numeric step and actor loss."""
        lines = [x for x in read_lines(CORPUS / "deepspeedexamples" / "actor_opt-1.3b_critic_opt-350m_globalBatchSize64.log")
                 if x.startswith("epoch: ")]
        assert len(lines) > 400
        for x in lines:
            out = parse_training_progress(x)
            assert out is not None and isinstance(out["ml.step"], int) and isinstance(out["ml.act_loss"], float)


class TestHfTrainer:
    def test_trainer_dict_line_gives_numeric_fields(self) -> None:
        """The Trainer's dict repr becomes ml.loss, ml.learning_rate and ml.epoch."""
        out = parse_hf_trainer("{'loss': 0.51, 'learning_rate': 4e-05, 'epoch': 1.0}")
        assert out == {"ml.loss": 0.51, "ml.learning_rate": 4e-05, "ml.epoch": 1.0}

    def test_dict_after_a_progress_bar_and_string_numbers(self) -> None:
        """A dict printed after tqdm text, with values as strings (newer Trainer), still parses."""
        out = parse_hf_trainer(" 10%|█         | 50/500 [00:10<01:30] {'eval_loss': '0.25', 'eval_runtime': 3.2, 'epoch': 2}")
        assert out == {"ml.eval_loss": 0.25, "ml.eval_runtime": 3.2, "ml.epoch": 2}

    def test_non_finite_values(self) -> None:
        """A nan grad_norm is skipped and an inf loss kept as infinity, without losing the other fields."""
        out = parse_hf_trainer("{'loss': inf, 'grad_norm': nan, 'learning_rate': 1e-05, 'epoch': 0.5}")
        assert out == {"ml.loss": float("inf"), "ml.learning_rate": 1e-05, "ml.epoch": 0.5}

    def test_code_is_never_evaluated(self) -> None:
        """Anything that is not a literal (a call) is rejected instead of run."""
        assert parse_hf_trainer("{'loss': __import__('os').getpid()}") is None

    def test_config_dicts_are_not_training_metrics(self) -> None:
        """A dict without a training key (vLLM sampling params) is not claimed."""
        assert parse_hf_trainer("Using default params: {'temperature': 0.6, 'top_p': 0.9}") is None


class TestKeras:
    def test_epoch_header_and_progress_line(self) -> None:
        """'Epoch 3/10' and the step line with '- loss: ... - accuracy: ...' give numeric fields."""
        assert parse_keras("Epoch 3/10") == {"ml.epoch": 3, "ml.epochs_total": 10}
        out = parse_keras("1875/1875 [==============================] - 5s 3ms/step - loss: 0.1234 - accuracy: 0.9600"
                          " - val_loss: 0.2 - val_acc: 0.95")
        assert out == {"ml.step": 1875, "ml.steps_total": 1875, "ml.loss": 0.1234, "ml.accuracy": 0.96,
                       "ml.val_loss": 0.2, "ml.val_accuracy": 0.95}

    def test_joined_epoch_and_keras3_bar(self) -> None:
        """An event holding the epoch header and a Keras 3 bar redrawn with CRs reads the last redraw."""
        msg = "Epoch 3/10\n\r 1/50 ━━━━ 1s - accuracy: 0.5 - loss: 0.9\r50/50 ━━━━━━━━━━ 2s 3ms/step - accuracy: 0.96 - loss: 0.1234"
        out = parse_keras(msg)
        assert out is not None
        assert (out["ml.epoch"], out["ml.step"], out["ml.loss"], out["ml.accuracy"]) == (3, 50, 0.1234, 0.96)


class TestTorchserveMetrics:
    def test_host_metric_line(self) -> None:
        """A TS_METRICS line gives name, unit, numeric value, dimensions, host name and timestamp."""
        line = read_lines(DATA / "torchserve_metrics_excerpt.log")[0]
        out = parse_torchserve_metrics(line)
        assert out == {"ml.metric.name": "CPUUtilization", "ml.metric.unit": "Percent", "ml.metric.value": 5.7,
                       "ml.metric.dimensions.Level": "Host", "host.hostname": "a100-st-p4d24xlarge-25",
                       "ml.metric.timestamp": 1688669070}

    def test_model_metric_line_carries_request_id(self) -> None:
        """A MODEL_METRICS line keeps the model dimension and maps requestID to http.request.id."""
        line = next(x for x in read_lines(DATA / "torchserve_metrics_excerpt.log") if "MODEL_METRICS" in x)
        out = parse_torchserve_metrics(line)
        assert out is not None
        assert out["ml.metric.dimensions.ModelName"] == "llama"
        assert re.fullmatch(r"[0-9a-f-]{36}", out["http.request.id"])

    @needs_corpus
    def test_every_metric_line_of_the_llama_log(self) -> None:
        """Each of the TS_METRICS and MODEL_METRICS lines of the llama log parses with a float value."""
        lines = [x for x in read_lines(CORPUS / "torchserve" / "llama-example" / "ts_log.log")
                 if "TS_METRICS - " in x or "MODEL_METRICS - " in x]
        assert len(lines) == 1637
        assert all(isinstance(parse_torchserve_metrics(x)["ml.metric.value"], float) for x in lines)  # type: ignore[index]


class TestVllm:
    def test_router_lines_lose_ansi_codes(self) -> None:
        """Router lines wrapped in colour codes give timestamp, level, logger and a clean message."""
        line = read_lines(DATA / "vllm_router_excerpt.log")[0]
        assert "\x1b[" in line
        out = parse_vllm(line)
        assert out == {"@timestamp": "2025-06-10T06:16:52.393Z", "log.level": "INFO",
                       "message": "Scraping metrics from 1 serving engine(s)",
                       "log.origin.file.name": "engine_stats.py", "log.origin.file.line": 136,
                       "log.logger": "vllm_router.stats.engine_stats"}

    def test_server_line_gives_origin_and_level(self) -> None:
        """A vLLM server line yields level, file, line and the message after the prefix."""
        out = parse_vllm("INFO 06-10 06:16:45 [launcher.py:36] Route: /score, Methods: POST")
        assert out is not None
        assert out["log.level"] == "INFO" and out["log.origin.file.name"] == "launcher.py"
        assert out["log.origin.file.line"] == 36 and out["message"] == "Route: /score, Methods: POST"
        assert out["@timestamp"].endswith("-06-10T06:16:45Z")

    def test_tqdm_redraws_keep_the_last_state(self) -> None:
        """A progress line written with bare CRs keeps only its last redraw."""
        out = parse_vllm("\rLoading shards:   0% Completed | 0/1\rLoading shards: 100% Completed | 1/1")
        assert out == {"message": "Loading shards: 100% Completed | 1/1", "ml.progress_pct": 100}

    @needs_corpus
    def test_no_ansi_code_survives_in_either_vllm_log(self) -> None:
        """Every non-empty line of both vLLM logs but the router's one bare warning parses, with no ESC left."""
        unparsed = []
        for name in ("vllm_server.log", "router.log"):
            for line in read_lines(CORPUS / "vllm-production-stack" / name):
                if not line.strip():
                    continue
                out = parse_vllm(line)
                if out is None:
                    unparsed.append(line)
                else:
                    assert "\x1b" not in repr(out)
        assert len(unparsed) == 1 and unparsed[0].startswith("Semantic cache model specified")


class TestVllmAccess:
    def test_uvicorn_access_line(self) -> None:
        """An access line gives client address, method, path, HTTP version and status."""
        out = parse_vllm_access('INFO:     127.0.0.1:47344 - "POST /v1/completions?x=1 HTTP/1.1" 200 OK')
        assert out == {"log.level": "INFO", "source.ip": "127.0.0.1", "source.port": 47344,
                       "http.request.method": "POST", "url.original": "/v1/completions?x=1",
                       "url.path": "/v1/completions", "url.query": "x=1", "http.version": "1.1",
                       "http.response.status_code": 200, "message": "POST /v1/completions?x=1 200"}

    def test_other_uvicorn_lines_are_not_access(self) -> None:
        """'Started server process' is not an access line."""
        assert parse_vllm_access("INFO:     Started server process [3842637]") is None


class TestCudaOom:
    OLD = ("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; "
           "12.53 GiB already allocated; 1.47 GiB free; 13.02 GiB reserved in total by PyTorch)")
    NEW = ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 3 has a total capacity of "
           "79.15 GiB of which 4.75 MiB is free. Including non-PyTorch memory, this process has 79.14 GiB memory in use. "
           "Of the allocated memory 78.12 GiB is allocated by PyTorch, and 384.23 MiB is reserved by PyTorch but unallocated.")

    def test_pytorch_1_message_sizes_in_bytes(self) -> None:
        """The PyTorch 1.x message gives the tag, device and every size as an integer number of bytes."""
        out = parse_cuda_oom(self.OLD)
        assert out is not None
        assert out["tags"] == ["cuda_oom"] and out["ml.cuda.device"] == 0 and out["error.type"] == "RuntimeError"
        assert out["ml.cuda.requested_bytes"] == 2 * 1024**3
        assert out["ml.cuda.free_bytes"] == int(1.47 * 1024**3)
        assert out["ml.cuda.total_bytes"] == int(15.78 * 1024**3)
        assert out["ml.cuda.allocated_bytes"] == int(12.53 * 1024**3)
        assert out["ml.cuda.reserved_bytes"] == int(13.02 * 1024**3)

    def test_pytorch_2_message_sizes_in_bytes(self) -> None:
        """The PyTorch 2.x wording gives requested, free, total and per-process sizes in bytes."""
        out = parse_cuda_oom(self.NEW)
        assert out is not None
        assert out["error.type"] == "torch.OutOfMemoryError" and out["ml.cuda.device"] == 3
        assert out["ml.cuda.requested_bytes"] == 20 * 1024**2
        assert out["ml.cuda.free_bytes"] == int(4.75 * 1024**2)
        assert out["ml.cuda.total_bytes"] == int(79.15 * 1024**3)
        assert out["ml.cuda.process_in_use_bytes"] == int(79.14 * 1024**3)
        assert out["ml.cuda.reserved_unallocated_bytes"] == int(384.23 * 1024**2)

    def test_oom_inside_a_traceback_event(self) -> None:
        """An OOM that ends a joined traceback is found anywhere in the message."""
        msg = 'Traceback (most recent call last):\n  File "t.py", line 3, in <module>\n' + self.NEW
        out = parse_cuda_oom(msg)
        assert out is not None and out["ml.cuda.requested_bytes"] == 20 * 1024**2


class TestTracebackThroughParseTransforms:
    def test_joined_torchserve_traceback_through_log4j_then_python_traceback(self) -> None:
        """A joined TorchServe event parsed by `log4j` then `python_traceback` keeps its time and gets error fields."""
        event = next(e for e in join_multiline(read_lines(DATA / "torchserve_model_log_excerpt.log")) if "Traceback" in e)
        first = build(decode(ParseConfig, {"type": "parse", "formats": ["log4j"]}))
        second = build(decode(ParseConfig, {"type": "parse", "formats": ["python_traceback"]}))
        batch = first.process(Batch.from_events([{"message": event}]))
        assert batch is not None
        out = second.process(batch)
        assert out is not None
        ev = out.events[0]
        assert ev["@timestamp"] == "2022-11-05T00:04:14.141Z"
        assert (ev["error.type"], ev["error.message"]) == ("RuntimeError", "Could not infer dtype of dict")
        assert ev["error.stack_trace"].startswith("Traceback (most recent call last):\n  File ")


class TestCheapPrechecks:
    """The literal tests in front of each preset's regexes must never turn away a line the regexes take."""

    def test_oom_in_any_case_is_found(self) -> None:
        """The OOM check ignores case like the regex it guards."""
        assert parse_cuda_oom("RuntimeError: cuda OUT OF MEMORY on device") is not None
        assert parse_cuda_oom("2026 OOM when allocating tensor with shape[8,1024]") is not None
        assert parse_cuda_oom("RuntimeError: expected scalar type Float") is None

    def test_short_metric_keys_still_count(self) -> None:
        """`lr`, `it` and `ppl` keys (aliases of core metrics) pass the hint check in any case."""
        assert parse_training_progress("It: 7 LR=0.1") == {"ml.step": 7, "ml.learning_rate": 0.1}
        assert parse_training_progress("ppl = 12.5") == {"ml.perplexity": 12.5}
        assert parse_training_progress("trainLoss: 0.25") == {"ml.train_loss": 0.25}
        assert parse_training_progress("split=3 limit=4 submit: 5") is None

    def test_unquoted_braces_are_not_trainer_dicts(self) -> None:
        """A brace pair with no quoted key cannot give a field and is refused before evaluation."""
        assert parse_hf_trainer("shapes {1: 2, 3: 4}") is None
        assert parse_hf_trainer("{\"loss\": 0.5}") == {"ml.loss": 0.5}

    def test_keras_epoch_header_without_metrics(self) -> None:
        """An `Epoch 3/10` header alone is still a Keras line; a steps bar without metrics is not."""
        assert parse_keras("Epoch 3/10") == {"ml.epoch": 3, "ml.epochs_total": 10}
        assert parse_keras("x - 12/50 [===>....]") is None

    def test_vllm_dispatch_by_first_character(self) -> None:
        """Lines of each vLLM kind are still told apart after the first-character dispatch."""
        assert parse_vllm("INFO 06-10 12:00:01 api_server.py:12] ready")["log.origin.file.line"] == 12
        assert parse_vllm("[2026-06-10 12:00:01,5] INFO: routed")["log.level"] == "INFO"
        assert parse_vllm("[rank1]: boom")["ml.rank"] == 1
        assert parse_vllm("Loading weights:  45%|####")["ml.progress_pct"] == 45
        assert parse_vllm("plain words") is None
        assert parse_torch_rank("rank1: boom") is None
        assert parse_torchserve_metrics("Requests.Count:1|dims") is None
        assert parse_vllm_access('GET / HTTP/1.1" 200') is None


class TestAutoDispatch:
    def test_auto_still_reaches_every_kind(self) -> None:
        """`auto` picks the same presets after its first-character table gained the ML presets."""
        lines = ["[rank2]: NCCL timeout", "Epoch 2/5", "torch.OutOfMemoryError: CUDA out of memory.",
                 "Iteration 10, loss = 0.5", "   plain indented text", "INFO:root:hello"]
        out = build(decode(ParseConfig, {"type": "parse", "formats": ["auto"]})).process(
            Batch.from_lines(lines, {"@timestamp": "2026-11-24T00:00:00Z"}))
        assert out is not None
        a, b, c, d, e, f = out.events
        assert a["ml.rank"] == 2 and b["ml.epoch"] == 2 and "cuda_oom" in c["tags"]
        assert d["ml.loss"] == 0.5 and "_parse_failure" in e["tags"]
        assert f["log.logger"] == "root" and f["message"] == "hello"
