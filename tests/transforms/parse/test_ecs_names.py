"""Every field the built-in formats write is an ECS field (checked against ``<repo>/../shared/ecs``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logferry.transforms.parse.common import FormatContext
from logferry.transforms.parse.formats import build_format

ECS_FLAT = Path(__file__).resolve().parents[3] / ".." / "shared" / "ecs" / "ecs_flat.yml"
pytestmark = pytest.mark.skipif(not ECS_FLAT.is_file(), reason=f"ECS reference not present at {ECS_FLAT}")

SAMPLES = {
    "python_logging": "2026-11-20 10:00:00,123 INFO [a.b] hello",
    "syslog": '<165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [x@1 a="b"] msg',
    "rfc3164": "<11>Jun 14 15:16:01 combo sshd[19939]: auth failure",
    "combined": '10.0.0.1 - bob [10/Oct/2000:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "http://r/" "curl"',
    "uvicorn": 'INFO:     127.0.0.1:1 - "GET / HTTP/1.1" 200 OK',
    "glog": "I0728 23:55:38.788589  4259 caffe.cpp:211] Use CPU.",
    "log4j": "2015-07-29 17:41:44,747 - INFO  [main:Foo@7] - x",
    "apache_error": "[Wed Oct 11 14:32:52.1 2000] [core:error] [pid 3:tid 4] [client 1.2.3.4:5] x",
    "hdfs": "081109 203615 148 INFO dfs.DataNode: x",
    "healthapp": "20171223-22:15:29:606|Step_LSC|30002312|x",
    "proxifier": "[10.30 16:49:06] chrome.exe - x",
}


class TestEcsNames:
    @pytest.mark.parametrize("fmt", sorted(SAMPLES))
    def test_builtin_fields_are_ecs(self, fmt: str, ctx: FormatContext) -> None:
        """The keys a built-in format produces all exist in ECS (ecs_flat.yml)."""
        ecs = set(re.findall(r"^'?([@\w.]+)'?:$", ECS_FLAT.read_text(encoding="utf-8"), re.MULTILINE))
        out = build_format(fmt, ctx)(SAMPLES[fmt])
        assert out is not None
        assert sorted(set(out) - ecs) == []
