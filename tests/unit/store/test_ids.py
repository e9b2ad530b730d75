from __future__ import annotations

from store.platform.ids import new_id


def test_ids_are_ulids_ordered_by_time() -> None:
    first, second = new_id(now_ms=1_700_000_000_000), new_id(now_ms=1_700_000_000_001)
    assert len(first) == 26 and first < second
    assert set(first) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert len({new_id() for _ in range(1000)}) == 1000
