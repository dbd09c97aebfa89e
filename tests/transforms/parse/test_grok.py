"""Tests for grok expressions and the shipped pattern library."""

from __future__ import annotations

import pytest

from logferry.transforms.parse.common import FormatContext
from logferry.transforms.parse.grok import compile_grok, field_path, grok, library


class TestLibrary:
    def test_standard_patterns_present_and_compile(self) -> None:
        """The library ships the standard names and every pattern compiles on its own."""
        lib = library()
        for name in ("COMMONAPACHELOG", "COMBINEDAPACHELOG", "SYSLOGLINE", "SYSLOGBASE", "HTTPD_ERRORLOG",
                     "TIMESTAMP_ISO8601", "IPORHOST", "LOGLEVEL", "NUMBER", "GREEDYDATA", "JAVASTACKTRACEPART"):
            assert name in lib
        for name in lib:
            compile_grok(f"%{{{name}}}")

    @pytest.mark.parametrize(("pattern", "text"), [
        ("IPV4", "192.168.0.255"), ("IPV6", "2001:db8::1"), ("IPV6", "::ffff:10.0.0.1"),
        ("HOSTNAME", "a-b.example.com"), ("UUID", "123e4567-e89b-12d3-a456-426614174000"),
        ("TIMESTAMP_ISO8601", "2026-11-20T10:00:00.123+02:00"), ("HTTPDATE", "10/Oct/2000:13:55:36 -0700"),
        ("SYSLOGTIMESTAMP", "Jun  4 15:16:01"), ("EMAILADDRESS", "first.last@example.org"),
    ])
    def test_building_blocks_match(self, pattern: str, text: str) -> None:
        """Basic patterns match typical values in full."""
        rx, _ = compile_grok(f"^%{{{pattern}}}$")
        assert rx.search(text) is not None


class TestGrok:
    def test_combined_apache_log(self, ctx: FormatContext) -> None:
        """COMBINEDAPACHELOG yields ECS fields with typed status and size."""
        line = '10.1.2.3 - alice [20/Nov/2026:10:00:00 +0100] "POST /v1?a=b HTTP/1.1" 200 1234 "-" "curl/8"'
        assert grok(ctx, "%{COMBINEDAPACHELOG}")(line) == {
            "source.address": "10.1.2.3", "user.name": "alice", "@timestamp": "2026-11-20T09:00:00Z",
            "http.request.method": "POST", "url.original": "/v1?a=b", "http.version": "1.1",
            "http.response.status_code": 200, "http.response.body.bytes": 1234, "user_agent.original": "curl/8"}

    def test_syslogline(self, ctx: FormatContext) -> None:
        """SYSLOGLINE yields host, program, pid, time and message."""
        out = grok(ctx, "%{SYSLOGLINE}")("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: auth failure")
        assert out == {"@timestamp": "2026-06-14T15:16:01Z", "host.hostname": "combo",
                       "process.name": "sshd(pam_unix)", "process.pid": 19939, "message": "auth failure"}

    def test_user_fields_types_and_inline_groups(self, ctx: FormatContext) -> None:
        """Plain field names, :int/:float types and inline (?<name>) groups all become fields."""
        p = grok(ctx, r"%{IP:client} %{WORD:method} %{NUMBER:bytes:int} %{NUMBER:secs:float} (?<tail>\w+)")
        assert p("55.3.244.1 GET 15824 0.043 end") == {
            "client": "55.3.244.1", "method": "GET", "bytes": 15824, "secs": 0.043, "tail": "end"}

    def test_extra_patterns(self, ctx: FormatContext) -> None:
        """Patterns given in config are usable by name."""
        p = grok(ctx, "%{QUEUE:queue} depth", patterns={"QUEUE": r"q-\d+"})
        assert p("q-17 depth") == {"queue": "q-17"}

    def test_errors_name_the_problem(self) -> None:
        """Unknown names, unknown types, cycles and bad regex are refused with a clear reason."""
        with pytest.raises(ValueError, match=r"unknown pattern %\{NOPE\}"):
            compile_grok("%{NOPE:x}")
        with pytest.raises(ValueError, match="unknown type 'date'"):
            compile_grok("%{WORD:x:date}")
        with pytest.raises(ValueError, match="nest too deeply"):
            compile_grok("%{A}", {"A": "%{B}", "B": "%{A}"})
        with pytest.raises(ValueError, match="does not compile"):
            compile_grok("%{WORD:x}(")

    def test_field_path(self) -> None:
        """Logstash field references become dotted names."""
        assert field_path("[http][request][method]") == "http.request.method"
        assert field_path("plain") == "plain"
