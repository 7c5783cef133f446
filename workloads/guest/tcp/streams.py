# Two TCP services whose every byte is known in advance, so that both ends
# can check a stream that crossed a migration:
#   port 9001, "source": sends the pattern from offset 0 for as long as the
#     connection lasts, as fast as the peer takes it;
#   port 9002, "echo": checks every byte it receives against the pattern and
#     sends it back, so a peer that writes fast and reads slowly keeps both
#     directions full.
# The pattern is the stream's own byte offsets: the 8-byte big-endian word k
# holds k. A byte skipped, repeated or changed anywhere shows at once.
# Once a second the state goes to /run/www/state as
# "ticks sent received ok first_bad_offset" (first_bad_offset -1 when none).
import array
import os
import socket
import sys
import threading
import time

STATE = "/run/www/state"
CHUNK = 65536
lock = threading.Lock()
totals = {"sent": 0, "received": 0}
first_bad = -1


def pattern(offset, length):
    """The pattern's bytes [offset, offset + length)."""
    first = offset // 8
    words = array.array("Q", range(first, (offset + length + 7) // 8))
    if sys.byteorder == "little":
        words.byteswap()
    skip = offset - first * 8
    return words.tobytes()[skip : skip + length]


def source(conn):
    sent = 0
    with conn:
        try:
            while True:
                block = pattern(sent, CHUNK)
                conn.sendall(block)
                sent += len(block)
                with lock:
                    totals["sent"] += len(block)
        except OSError:
            return


def echo(conn):
    global first_bad
    received = 0
    with conn:
        try:
            while True:
                data = conn.recv(CHUNK)
                if not data:
                    return
                if data != pattern(received, len(data)):
                    want = pattern(received, len(data))
                    at = next(i for i in range(len(data)) if data[i] != want[i])
                    with lock:
                        if first_bad < 0:
                            first_bad = received + at
                received += len(data)
                with lock:
                    totals["received"] += len(data)
                conn.sendall(data)
        except OSError:
            return


def listen(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(16)
    return listener


def serve(listener, handler):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--pattern":
        # For the tests: the pattern's bytes [offset, offset + length) on stdout.
        sys.stdout.buffer.write(pattern(int(sys.argv[2]), int(sys.argv[3])))
        return
    state = sys.argv[1] if len(sys.argv) > 1 else STATE
    base = int(sys.argv[2]) if len(sys.argv) > 2 else 9000
    # Both ports listen before the first state is written: a state to read means the streams can be opened.
    listeners = [(listen(base + 1), source), (listen(base + 2), echo)]
    for listener, handler in listeners:
        threading.Thread(target=serve, args=(listener, handler), daemon=True).start()
    ticks = 0
    while True:
        ticks += 1
        with lock:
            line = f"{ticks} {totals['sent']} {totals['received']} {1 if first_bad < 0 else 0} {first_bad}\n"
        with open(state + ".tmp", "w") as f:
            f.write(line)
        os.replace(state + ".tmp", state)
        time.sleep(1)


main()
