#!/usr/bin/python3
# The binding's per-event cost, Python side: the same program and protocol as event-cost.ts, with
# bcc's own Python module (python3-bpfcc), events decoded with table.event() as bcc's tools do.
#   /usr/bin/python3 test/bench/event_cost.py ring|perf PID N
import ctypes as ct
import json
import os
import platform
import select
import sys

from bcc import BPF

kind, target, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
getppid_nr = 173 if platform.machine() == "aarch64" else 110
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "event-cost.bpf.c")) as f:
    text = f.read()
b = BPF(text=text, cflags=["-DUSE_RINGBUF=%d" % (kind == "ring"), "-DGETPPID_NR=%d" % getppid_nr])
b["target"][ct.c_int(0)] = ct.c_uint32(target)
received = 0


def on_event(*args):
    global received
    event = b["events"].event(args[1])
    if event.pid == target:
        received += 1


if kind == "ring":
    b["events"].open_ring_buffer(on_event)
    poll = b.ring_buffer_poll
else:
    b["events"].open_perf_buffer(on_event, page_cnt=2048, lost_cb=lambda lost: None)
    poll = b.perf_buffer_poll
print("ready", flush=True)


def drops():
    return b["drops"][ct.c_int(0)].value


while received + drops() < expected:
    poll(20)
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    if ready:
        line = sys.stdin.readline()
        if not line or "end" in line:
            break
print(json.dumps({"received": received, "drops": drops()}), flush=True)
sys.stdin.read()
