"""Tests of the partition template renderer."""

from __future__ import annotations

from logferry.outputs.s3.partition import Partitioner


class TestPartitioner:
    def test_renders_hive_prefix_from_fields_and_timestamp(self) -> None:
        """Field placeholders and strftime codes become a Hive-style prefix under the literal prefix."""
        p = Partitioner("dataset={event.dataset}/dt=%Y-%m-%d/hour=%H/", "logs")
        ev = {"event.dataset": "nginx.access", "@timestamp": "2024-05-01T13:04:05.123Z"}
        assert p.render(ev) == "logs/dataset=nginx.access/dt=2024-05-01/hour=13/"

    def test_missing_and_unsafe_values_are_made_safe(self) -> None:
        """An absent field renders as the missing value and `/` or `..` cannot add path levels."""
        p = Partitioner("a={x}/b={y}", "", missing_value="none")
        assert p.render({"y": "../etc/passwd"}) == "a=none/b=__etc_passwd/"

    def test_timestamp_with_offset_is_converted_to_utc(self) -> None:
        """A timestamp with a zone offset is placed by its UTC hour."""
        p = Partitioner("h=%H/", "")
        assert p.render({"@timestamp": "2024-05-01T01:30:00+02:00"}) == "h=23/"

    def test_cache_does_not_mix_hours(self) -> None:
        """Events of different hours and datasets get different prefixes even after caching."""
        p = Partitioner("d={ds}/h=%H/", "")
        evs = [{"ds": d, "@timestamp": f"2024-05-01T{h:02d}:00:00Z"} for d in ("a", "b") for h in (1, 2)] * 3
        assert [p.render(e) for e in evs][:4] == ["d=a/h=01/", "d=a/h=02/", "d=b/h=01/", "d=b/h=02/"]

    def test_percent_in_value_survives_strftime(self) -> None:
        """A `%` inside a field value is kept literally, not read as a strftime code."""
        p = Partitioner("v={v}/y=%Y/", "")
        assert p.render({"v": "100%d", "@timestamp": "2024-05-01T00:00:00Z"}) == "v=100%d/y=2024/"

    def test_list_value_is_rendered_without_cache(self) -> None:
        """An unhashable field value still renders (as text)."""
        p = Partitioner("t={tags}/", "")
        assert p.render({"tags": ["a"]}) == "t=['a']/"
