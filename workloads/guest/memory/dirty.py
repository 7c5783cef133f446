# Dirties memory at a set rate over a set working set, and keeps a running
# checksum of what it wrote, so the pages in CRIU's last dump can be driven
# on purpose and the memory checked after a move.
#
# Every 10 ms tick it stamps the next pages of the working set (cyclically)
# with a one-byte stamp, as many as the rate asks for the time since the last
# tick (a slow guest ticks less often, and stamps more per tick); `expected`
# is the sum of every page's stamp, updated with each write. Once a second it sums the stamps as they are in memory: a
# page lost or restored stale in a migration makes the two differ. State goes
# to /run/www/state as "ticks pages_dirtied expected in_memory ok".
import os
import sys
import time

PAGE = 4096
rate_mb = float(sys.argv[1])
working_set_mb = int(sys.argv[2])
pages = working_set_mb * 256
buf = bytearray(pages * PAGE)
per_second = rate_mb * 256  # pages
expected = 0
cursor = 0
carry = 0.0
ticks = 0
dirtied = 0
ok = True
in_memory = 0
next_check = time.monotonic()
last_tick = time.monotonic()


def stamp(start, count, value):
    global expected
    old = sum(buf[start * PAGE : (start + count) * PAGE : PAGE])
    buf[start * PAGE : (start + count) * PAGE : PAGE] = bytes([value]) * count
    expected += value * count - old


while True:
    tick_start = time.monotonic()
    ticks += 1
    # After a freeze (a migration) at most one pass over the working set is owed.
    carry = min(carry + per_second * (tick_start - last_tick), pages)
    last_tick = tick_start
    n = int(carry)
    carry -= n
    value = ticks % 251 + 1
    while n > 0:
        count = min(n, pages - cursor)
        stamp(cursor, count, value)
        cursor = (cursor + count) % pages
        n -= count
        dirtied += count
    if tick_start >= next_check:
        in_memory = sum(buf[::PAGE])
        ok = ok and in_memory == expected
        next_check = tick_start + 1.0
        with open("/run/www/state.tmp", "w") as f:
            f.write(f"{ticks} {dirtied} {expected} {in_memory} {1 if ok else 0}\n")
        os.replace("/run/www/state.tmp", "/run/www/state")
    time.sleep(max(0.0, 0.01 - (time.monotonic() - tick_start)))
