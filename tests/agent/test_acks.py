"""Acknowledgement bookkeeping: tokens, status merging and the ordered checkpoint prefix."""

import pytest

from logferry.agent.acks import AckStatus, OrderedAcks, settle_all


class TestAckToken:
    def test_settles_only_after_every_reference(self) -> None:
        """A retained token reports to its stream only when the last reference settles."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        t = acks.open(100)
        t.retain(2)
        t.settle()
        t.settle()
        assert seen == []
        t.settle()
        assert seen == [100]

    def test_over_settling_is_an_error(self) -> None:
        """Settling more often than retained raises instead of corrupting the count."""
        t = OrderedAcks(lambda p: None).open(1)
        t.settle()
        with pytest.raises(RuntimeError, match="settled more often"):
            t.settle()

    def test_highest_status_wins(self) -> None:
        """ERRORED outranks REJECTED, which outranks DELIVERED."""
        t = OrderedAcks(lambda p: None).open(1, refs=3)
        t.settle(AckStatus.REJECTED)
        t.settle(AckStatus.ERRORED)
        t.settle(AckStatus.DELIVERED)
        assert t.status is AckStatus.ERRORED


class TestOrderedAcks:
    def test_advances_over_longest_settled_prefix(self) -> None:
        """Out-of-order settlement moves the position only over a contiguous prefix."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        a, b, c = acks.open(10), acks.open(20), acks.open(30)
        c.settle()
        b.settle()
        assert seen == []
        a.settle()
        assert seen == [30]
        assert acks.pending == 0

    def test_rejected_advances_and_is_counted(self) -> None:
        """A rejected batch cannot succeed on replay, so the position moves past it."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        acks.open(5).settle(AckStatus.REJECTED)
        assert seen == [5]
        assert acks.rejected_batches == 1

    def test_errored_blocks_the_stream(self) -> None:
        """After an ERRORED batch the position never moves again in this run."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        a, b, c = acks.open(1), acks.open(2), acks.open(3)
        a.settle()
        b.settle(AckStatus.ERRORED)
        c.settle()
        assert seen == [1]
        assert acks.blocked

    def test_settle_all_uses_counts(self) -> None:
        """settle_all gives back each token as many references as the tally holds."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        t = acks.open(7, refs=2)
        settle_all({t: 2}, AckStatus.DELIVERED)
        assert seen == [7]
