"""After every attack: the server is up, holds no more descriptors than
before the attacks, and its RSS is back within 20% of its level after the
warm-up."""

import pytest

from conftest import wait_for


@pytest.mark.after_all_attacks
def test_memory_after_all_attacks(server):
    server.assert_alive()
    # Every attacker has disconnected: wait for the server to notice.
    assert wait_for(lambda: server.fds() <= server.fds_idle, 10), \
        f"{server.fds()} descriptors open, {server.fds_idle} when idle"
    before = server.rss_before
    within = wait_for(lambda: server.rss() <= before * 1.2, 5)
    after = server.rss()
    print(f"\nserver RSS: {before} KiB after the warm-up, {after} KiB after all attacks "
          f"({(after - before) * 100 / before:+.1f}%)")
    assert within, f"RSS {after} KiB after the attacks, {before} KiB before: more than 20% above"
