"""`logferry dlq list|replay|purge` and `logferry setup elasticsearch` against the es_wire server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from logferry.outputs.elasticsearch import dlq_cli, setup_cli
from logferry.outputs.elasticsearch.dlq import DeadLetterQueue

from tests.outputs.elasticsearch.helpers import drive, make_config, make_events
from tests.servers.es_wire import EsWireServer


def write_config(tmp_path: Path, url: str, extra: str = "") -> str:
    path = tmp_path / "logferry.yaml"
    path.write_text(f"""
data_dir: {tmp_path / "data"}
sources:
  app: {{type: file, include: ["{tmp_path}/logs/*.log"]}}
outputs:
  es:
    type: elasticsearch
    inputs: [app]
    endpoints: ["{url}"]
    request: {{retry_initial_backoff_secs: 0.005, retry_max_backoff_secs: 0.02}}
{extra}""")
    return str(path)


def fill_dlq(es: EsWireServer, tmp_path: Path) -> Path:
    """Send 30 events of which 10 are refused with 400, through the real output, into the config's DLQ dir."""
    es.faults.item_400_when = lambda doc: int(doc["message"].rsplit(" ", 1)[1]) % 3 == 0
    out_dir = tmp_path / "data" / "outputs" / "es"
    asyncio.run(drive(make_config(es.url), out_dir, [make_events(30)]))
    return out_dir / "dlq"


class TestDlqCli:
    def test_list_shows_records_and_summary(self, es: EsWireServer, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
        """`dlq list` prints one line per record and a summary with the count and status/type."""
        fill_dlq(es, tmp_path)
        assert dlq_cli.main(["list", "-c", write_config(tmp_path, es.url)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[-1].startswith("es: 10 dead-lettered documents in 1 segments (400 document_parsing_exception: 10)")
        assert "id=e-0" in out[0] and "logs-generic-default" in out[0]

    def test_replay_after_fix_delivers_and_empties(self, es: EsWireServer, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
        """Once the fault is cleared, `dlq replay` sends every DLQ'd document once and leaves the DLQ empty."""
        dlq_dir = fill_dlq(es, tmp_path)
        assert es.state.count() == 20
        es.faults.clear()
        assert dlq_cli.main(["replay", "-c", write_config(tmp_path, es.url)]) == 0
        assert es.state.count() == 30
        assert DeadLetterQueue(dlq_dir).count() == 0
        assert "10 delivered, 0 refused again" in capsys.readouterr().out

    def test_replay_while_still_broken_keeps_records(self, es: EsWireServer, tmp_path: Path) -> None:
        """A replay whose documents are refused again exits 1 and the records are back in the DLQ, once each."""
        dlq_dir = fill_dlq(es, tmp_path)
        assert dlq_cli.main(["replay", "-c", write_config(tmp_path, es.url)]) == 1
        ids = sorted(r["event"]["event.id"] for r in DeadLetterQueue(dlq_dir).read())
        assert ids == sorted(f"e-{i}" for i in range(0, 30, 3))

    def test_replay_timeout_keeps_unconfirmed(self, es: EsWireServer, tmp_path: Path) -> None:
        """When the cluster does not answer before --timeout-secs, every record stays in the DLQ."""
        dlq_dir = fill_dlq(es, tmp_path)
        es.faults.clear()
        es.faults.request_statuses = [503] * 10_000
        cfg = write_config(tmp_path, es.url, "    healthcheck: false\n")
        assert dlq_cli.main(["replay", "-c", cfg, "--timeout-secs", "0.3"]) == 1
        assert DeadLetterQueue(dlq_dir).count() == 10

    def test_purge(self, es: EsWireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`dlq purge` deletes the records and reports how many."""
        dlq_dir = fill_dlq(es, tmp_path)
        assert dlq_cli.main(["purge", "-c", write_config(tmp_path, es.url)]) == 0
        assert DeadLetterQueue(dlq_dir).count() == 0
        assert "es: purged 10 dead-lettered documents" in capsys.readouterr().out

    def test_unknown_output_is_a_config_error(self, es: EsWireServer, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
        """Naming an output that is not an elasticsearch output exits 78 with the config path in the message."""
        cfg = write_config(tmp_path, es.url)
        assert dlq_cli.main(["list", "-c", cfg, "--output", "nope"]) == 78
        assert f"{cfg}: no elasticsearch output named `nope`" in capsys.readouterr().err


class TestSetupCli:
    def test_installs_template_policy_and_stream(self, es_any: EsWireServer, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
        """setup puts the ILM policy and index template and creates the data stream on ES 8 and 9."""
        cfg = write_config(tmp_path, es_any.url, "    data_stream: {dataset: trainer}\n"
                           "    lifecycle: {policy_name: logferry-30d, delete_after: 30d}\n")
        assert setup_cli.main(["elasticsearch", "-c", cfg]) == 0
        st = es_any.state
        assert st.templates["logferry-logs"]["index_patterns"] == ["logs-trainer-*"]
        assert st.ilm_policies["logferry-30d"]["phases"]["delete"]["min_age"] == "30d"
        assert "logs-trainer-default" in st.data_streams
        out = capsys.readouterr().out
        assert "es: index template `logferry-logs` installed for logs-trainer-*" in out

    def test_template_mapping_refuses_wrong_types(self, es: EsWireServer, tmp_path: Path) -> None:
        """After setup, a document with a string in a long ECS field is refused by the server and DLQ'd."""
        assert setup_cli.main(["-c", write_config(tmp_path, es.url)]) == 0
        bad = make_events(1, "bad", **{"http.response.status_code": "two hundred"})
        asyncio.run(drive(make_config(es.url), tmp_path, [make_events(2) + bad]))
        (rec,) = DeadLetterQueue(tmp_path / "dlq").read()
        assert "http.response.status_code" in rec["error"]["reason"]

    def test_unreachable_cluster_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """setup against a closed port exits 1 naming the output and the endpoint."""
        assert setup_cli.main(["-c", write_config(tmp_path, "http://127.0.0.1:9")]) == 1
        assert "outputs.es: Elasticsearch at http://127.0.0.1:9 is unreachable" in capsys.readouterr().err
