"""Tests for the built-in line formats (one class per format family)."""

from __future__ import annotations

from typing import Any

import pytest

from logferry.transforms.parse.common import MATCH, MATCH_WITHOUT_TIME, NO_MATCH, FormatContext, as_into
from logferry.transforms.parse.formats import build_format


def parse(ctx: FormatContext, fmt: str, line: str) -> dict[str, Any] | None:
    return build_format(fmt, ctx)(line)


class TestPythonLogging:
    @pytest.mark.parametrize("line", [
        "2026-11-20 10:00:00,123 WARNING [serve.app] slow request id=1",
        "2026-11-20 10:00:00,123 WARNING serve.app: slow request id=1",
        "2026-11-20 10:00:00,123 - serve.app - WARNING - slow request id=1",
        "2026-11-20 10:00:00,123 [WARNING] serve.app: slow request id=1",
        "2026-11-20 10:00:00,123:WARNING:serve.app:slow request id=1",
    ])
    def test_layouts_with_logger(self, ctx: FormatContext, line: str) -> None:
        """Each common asctime layout yields time, level, logger and the message text."""
        assert parse(ctx, "python_logging", line) == {
            "@timestamp": "2026-11-20T10:00:00.123Z", "log.level": "warn", "log.logger": "serve.app",
            "message": "slow request id=1"}

    def test_default_basicconfig_layout(self, ctx: FormatContext) -> None:
        """`LEVEL:name:message` (logging's default) parses without a time."""
        assert parse(ctx, "python_logging", "ERROR:root:disk full") == {
            "log.level": "error", "log.logger": "root", "message": "disk full"}

    def test_time_level_message_only(self, ctx: FormatContext) -> None:
        """`%(asctime)s %(levelname)s %(message)s` parses without a logger."""
        assert parse(ctx, "python_logging", "2026-11-20 10:00:00,123 INFO Starting up") == {
            "@timestamp": "2026-11-20T10:00:00.123Z", "log.level": "info", "message": "Starting up"}

    def test_multiline_message_is_kept_whole(self, ctx: FormatContext) -> None:
        """A joined traceback stays in the message, newlines included."""
        line = "2026-11-20 10:00:00,123 ERROR [x] boom\nTraceback (most recent call last):\n  File \"a.py\""
        out = parse(ctx, "python_logging", line)
        assert out is not None and out["message"].endswith('File "a.py"')

    def test_non_level_word_is_not_a_match(self, ctx: FormatContext) -> None:
        """An upper-case word that is not a Python level does not count as a match."""
        assert parse(ctx, "python_logging", "2026-11-20 10:00:00,123 HELLO [x] y") is None
        assert parse(ctx, "python_logging", "HELLO:x:y") is None

    @pytest.mark.parametrize("line", [
        "2026-11-20 10:00:01,500 INFO [a.b] hi",
        "2026-11-20 10:00:01 WARNING serve.app: no fraction",
        "2026-11-20 10:00:01,500 - serve.app - ERROR - cookbook",
        "2026-11-20 10:00:01,500 INFO Starting up",
        "INFO:root:untimed",
    ])
    def test_in_place_form_matches_dict_form(self, ctx: FormatContext, line: str) -> None:
        """The hot in-place path writes the same fields the dict path returns, on a cold and a warm cache."""
        parser = build_format("python_logging", ctx)
        into = as_into(parser)
        for _ in range(2):
            ev: dict[str, Any] = {"message": line}
            status = into(line, ev)
            assert ev == parser(line)
            assert status == (MATCH if "@timestamp" in ev else MATCH_WITHOUT_TIME)

    @pytest.mark.parametrize("line", ["", "lower case", "2026-11-20 10:00:01,500 HELLO [a.b] x", "INFO:     x"])
    def test_in_place_form_leaves_other_lines_alone(self, ctx: FormatContext, line: str) -> None:
        """A line no layout takes is NO_MATCH in place, and the event is not touched."""
        ev: dict[str, Any] = {"message": line}
        assert as_into(build_format("python_logging", ctx))(line, ev) == NO_MATCH
        assert ev == {"message": line}

    def test_invalid_date_keeps_match_without_time(self, ctx: FormatContext) -> None:
        """A line in the layout with an impossible date still parses, without a time."""
        ev: dict[str, Any] = {}
        status = as_into(build_format("python_logging", ctx))("2026-13-45 10:00:00,123 INFO [a] x", ev)
        assert status == MATCH_WITHOUT_TIME and "@timestamp" not in ev and ev["log.level"] == "info"


class TestSyslog:
    def test_rfc3164_file_line(self, ctx: FormatContext) -> None:
        """A /var/log/messages line yields host, program, pid and an inferred year."""
        assert parse(ctx, "syslog", "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure") == {
            "@timestamp": "2026-06-14T15:16:01Z", "host.hostname": "combo", "process.name": "sshd(pam_unix)",
            "process.pid": 19939, "message": "authentication failure"}

    def test_rfc3164_with_priority(self, ctx: FormatContext) -> None:
        """A <PRI> prefix yields facility, severity and the ECS level."""
        out = parse(ctx, "syslog", "<11>Dec  1 01:02:03 host app: failed")
        assert out is not None
        assert (out["log.syslog.facility.code"], out["log.syslog.severity.code"], out["log.level"]) == (1, 3, "error")

    def test_tag_without_pid_and_line_without_tag(self, ctx: FormatContext) -> None:
        """`kernel: msg` has no pid; a line without any tag keeps all its text as message."""
        out = parse(ctx, "syslog", "Jun 14 15:16:01 combo kernel: Linux version 2.6")
        assert out is not None and out["process.name"] == "kernel" and "process.pid" not in out
        out = parse(ctx, "syslog", "Jun 14 15:16:01 combo just text")
        assert out is not None and out["message"] == "just text" and "process.name" not in out

    def test_rfc5424(self, ctx: FormatContext) -> None:
        """RFC 5424 yields app, procid, msgid, structured data and the BOM-less message."""
        line = ('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 '
                '[exampleSDID@32473 iut="3" eventSource="App\\"x\\""][other@1 a="b"] \ufeffAn application event')
        out = parse(ctx, "syslog", line)
        assert out == {
            "@timestamp": "2003-10-11T22:14:15.003Z", "log.syslog.version": "1", "log.syslog.priority": 165,
            "log.syslog.facility.code": 20, "log.syslog.severity.code": 5, "log.syslog.severity.name": "notice",
            "log.level": "info", "host.hostname": "mymachine.example.com", "log.syslog.appname": "evntslog",
            "process.name": "evntslog", "process.pid": 1234, "log.syslog.msgid": "ID47",
            "log.syslog.structured_data": {"exampleSDID@32473": {"iut": "3", "eventSource": 'App"x"'},
                                           "other@1": {"a": "b"}},
            "message": "An application event"}

    def test_not_syslog(self, ctx: FormatContext) -> None:
        """Other text is not taken for syslog."""
        assert parse(ctx, "syslog", "hello world") is None


class TestAccess:
    LINE = ('203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 '
            '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)" 0.004')

    def test_combined(self, ctx: FormatContext) -> None:
        """A combined line (with an nginx extra field) yields the ECS http/url/user_agent fields and no message."""
        assert parse(ctx, "combined", self.LINE) == {
            "@timestamp": "2000-10-10T20:55:36Z", "source.address": "203.0.113.9", "source.ip": "203.0.113.9",
            "user.name": "frank", "http.request.method": "GET", "url.original": "/apache_pb.gif?a=1",
            "http.version": "1.0", "http.response.status_code": 200, "http.response.body.bytes": 2326,
            "http.request.referrer": "http://www.example.com/start.html",
            "user_agent.original": "Mozilla/4.08 [en] (Win98; I ;Nav)"}

    def test_clf_with_dashes_and_hostname(self, ctx: FormatContext) -> None:
        """Common format with `-` size, a bad request line and a host name instead of an IP."""
        out = parse(ctx, "clf", 'client.example.com - - [10/Oct/2000:13:55:36 +0000] "-" 400 -')
        assert out == {"@timestamp": "2000-10-10T13:55:36Z", "source.address": "client.example.com",
                       "http.response.status_code": 400}

    def test_uvicorn_access_and_plain(self, ctx: FormatContext) -> None:
        """uvicorn access lines yield client and request; plain lines yield level and message."""
        assert parse(ctx, "uvicorn", 'INFO:     127.0.0.1:47344 - "POST /v1/completions HTTP/1.1" 200 OK') == {
            "log.level": "info", "log.logger": "uvicorn.access", "source.address": "127.0.0.1",
            "source.ip": "127.0.0.1", "source.port": 47344, "http.request.method": "POST",
            "url.original": "/v1/completions", "http.version": "1.1", "http.response.status_code": 200}
        assert parse(ctx, "uvicorn", "WARNING:  Invalid HTTP request received.") == {
            "log.level": "warn", "message": "Invalid HTTP request received."}
        assert parse(ctx, "uvicorn", "INFO: not uvicorn padding") is None


class TestGlog:
    def test_caffe_line(self, ctx: FormatContext) -> None:
        """A Caffe glog line yields level, time (year inferred), thread id and source location."""
        assert parse(ctx, "glog", "W0728 23:55:38.788589  4259 caffe.cpp:211] Use CPU.") == {
            "@timestamp": "2026-07-28T23:55:38.788589Z", "log.level": "warn", "process.thread.id": 4259,
            "log.origin.file.name": "caffe.cpp", "log.origin.file.line": 211, "message": "Use CPU."}


class TestLog4j:
    def test_spark(self, ctx: FormatContext) -> None:
        """Spark's `yy/MM/dd HH:mm:ss LEVEL logger: msg` layout."""
        assert parse(ctx, "log4j", "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered") == {
            "@timestamp": "2017-06-09T20:10:40Z", "log.level": "info",
            "log.logger": "executor.CoarseGrainedExecutorBackend", "message": "Registered"}

    def test_zookeeper_thread_with_colons(self, ctx: FormatContext) -> None:
        """ZooKeeper's `[thread:Class@line]` splits at the last colon, so thread names may hold colons."""
        line = ("2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774]"
                " - Notification time out: 3200")
        assert parse(ctx, "log4j", line) == {
            "@timestamp": "2015-07-29T17:41:44.747Z", "log.level": "info",
            "process.thread.name": "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181", "log.logger": "FastLeaderElection",
            "log.origin.file.line": 774, "message": "Notification time out: 3200"}

    def test_torchserve_layout(self, ctx: FormatContext) -> None:
        """TorchServe's `%d{ISO8601} [%-5p] %t %c - %m` layout."""
        out = parse(ctx, "log4j", "2023-07-06T18:44:22,228 [INFO ] main org.pytorch.serve.ModelServer - Started")
        assert out == {"@timestamp": "2023-07-06T18:44:22.228Z", "log.level": "info",
                       "process.thread.name": "main", "log.logger": "org.pytorch.serve.ModelServer",
                       "message": "Started"}


class TestLoghubPresets:
    def test_apache_error_24(self, ctx: FormatContext) -> None:
        """Apache 2.4 error lines yield module, pid, tid, client and a microsecond time."""
        line = ("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] "
                "[client 72.15.99.187:5123] File does not exist: /x")
        assert parse(ctx, "apache_error", line) == {
            "@timestamp": "2000-10-11T14:32:52.123456Z", "log.level": "error", "message": "File does not exist: /x",
            "log.logger": "core", "process.pid": 35708, "process.thread.id": 4328636416,
            "source.address": "72.15.99.187", "source.ip": "72.15.99.187", "source.port": 5123}

    def test_hdfs_healthapp_proxifier(self, ctx: FormatContext) -> None:
        """The HDFS, HealthApp and Proxifier presets read their own time layouts."""
        hdfs = parse(ctx, "hdfs", "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1")
        assert hdfs is not None and hdfs["@timestamp"] == "2008-11-09T20:36:15Z" and hdfs["process.thread.id"] == 148
        health = parse(ctx, "healthapp", "20171223-22:25:13:8|Step_LSC|30002312|onExtend:1514038530000 14 0 4")
        assert health == {"@timestamp": "2017-12-23T22:25:13.008Z", "log.logger": "Step_LSC",
                          "process.pid": 30002312, "message": "onExtend:1514038530000 14 0 4"}
        proxy = parse(ctx, "proxifier", "[10.30 16:49:06] svchost.exe *64 - proxy.example.com:5070 open")
        assert proxy == {"@timestamp": "2026-10-30T16:49:06Z", "process.name": "svchost.exe *64",
                         "message": "proxy.example.com:5070 open"}


class TestAuto:
    @pytest.mark.parametrize(("line", "key", "value"), [
        ('{"level":"warn","msg":"x"}', "log.level", "warn"),
        ("2026-11-20 10:00:00,123 INFO [a] x", "log.logger", "a"),
        ("I0728 23:55:38.788589  4259 caffe.cpp:211] x", "log.origin.file.name", "caffe.cpp"),
        ('INFO:     127.0.0.1:1 - "GET / HTTP/1.1" 200 OK', "source.port", 1),
        ('10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"', "user_agent.original", "curl"),
        ("<13>Jun 14 15:16:01 host app[1]: x", "process.pid", 1),
        ("[Sun Dec 04 04:47:44 2005] [notice] x", "log.level", "info"),
        ("level=debug msg=hi n=1", "n", "1"),
        ("2015-07-29 17:41:44,747 - WARN  [t:C@1] - x", "log.level", "warn"),
    ])
    def test_picks_the_right_builtin(self, ctx: FormatContext, line: str, key: str, value: object) -> None:
        """`auto` recognises each built-in family from the line alone."""
        out = parse(ctx, "auto", line)
        assert out is not None and out[key] == value

    def test_prose_is_no_match(self, ctx: FormatContext) -> None:
        """Plain prose with an `=` in it is not taken for logfmt or anything else."""
        into = as_into(build_format("auto", ctx))
        assert into("Semantic cache model: enable with --feature-gates=SemanticCache=true yes", {}) == NO_MATCH
        assert into("", {}) == NO_MATCH
