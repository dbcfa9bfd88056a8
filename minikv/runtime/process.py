"""The node process: what `python -m minikv node` runs, one OS process per node.

It builds a pure `Node`, serves it with `NodeServer` on 127.0.0.1, tells its parent the port it
got, and then lives until told to stop. A node started by a `LocalCluster` must never outlive
that parent (a learner's kernel restart must not leave servers behind), so it has two guards:

1. Linux's parent-death signal (`prctl(PR_SET_PDEATHSIG, SIGKILL)`): the kernel kills the node
   when its parent dies, even a paused (SIGSTOPped) node, even if the parent was SIGKILLed.
2. Its stdin is a pipe from the parent: end-of-file means the parent is gone (any platform).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import random
import signal
import sys
import time

from minikv.config import NodeConfig
from minikv.plugins import load_hooks
from minikv.core.node import Node
from minikv.runtime.aerospike_server import AerospikeServer
from minikv.runtime.durable import DurableState
from minikv.runtime.net import EmptyHandlerConnection, NodeServer, new_event_loop

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def add_node_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", default="n1", help="node id, e.g. n1")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on; 0 picks a free one")
    parser.add_argument("--config", default=None, help="NodeConfig as JSON")
    parser.add_argument("--ready-fd", type=int, default=None, help="write the port here when ready")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process dies")
    parser.add_argument("--cpu", type=int, default=None, help="pin the node to this CPU")
    parser.add_argument("--state-file", default=None, help="keep SC rosters and regimes here across restarts")
    parser.add_argument("--empty-handler", action="store_true", help="benchmark baseline: reply OK to anything")
    parser.add_argument("--aerospike-port", type=int, default=None,
                        help="also speak Aerospike's wire protocol on this port (0 picks a free one)")


def run_node(args: argparse.Namespace) -> int:
    """Run one node until SIGTERM/SIGINT, or until its parent dies."""
    if args.parent_pid is not None:
        _die_with_parent(args.parent_pid)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    config = NodeConfig.from_json(json.loads(args.config)) if args.config else NodeConfig()
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    port, aerospike_port = loop.run_until_complete(_listen(args, config))
    gc.freeze()  # start-up objects never need collecting; keeps later GC passes short
    _announce(args, port, aerospike_port)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    if args.parent_pid is not None:
        loop.add_reader(sys.stdin.fileno(), _stop_on_eof, loop)
    loop.run_forever()
    print(f"{args.id} stopped", file=sys.stderr, flush=True)
    return 0


async def _listen(args: argparse.Namespace, config: NodeConfig) -> tuple[int, int | None]:
    """(native port, Aerospike-protocol port or None)."""
    if args.empty_handler:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: EmptyHandlerConnection(config.max_frame_size),
                                          args.host, args.port, reuse_address=True)
        return server.sockets[0].getsockname()[1], None
    node = Node(args.id, config, time.time(), random.Random(), load_hooks(dict(config.plugins)))
    node_server = NodeServer(node)
    if args.state_file:
        durable = DurableState(node, args.state_file)
        durable.restore()
        node_server.before_effects = durable.save_if_changed
    port = await node_server.start(args.host, args.port)
    if args.aerospike_port is None:
        return port, None
    return port, await AerospikeServer(node_server).start(args.host, args.aerospike_port)


def _announce(args: argparse.Namespace, port: int, aerospike_port: int | None) -> None:
    also = f", Aerospike protocol on {args.host}:{aerospike_port}" if aerospike_port else ""
    print(f"{args.id} listening on {args.host}:{port}{also} (pid {os.getpid()})", file=sys.stderr, flush=True)
    if args.ready_fd is not None:  # "port" or "port aerospike_port"
        os.write(args.ready_fd, f"{port}{f' {aerospike_port}' if aerospike_port else ''}\n".encode())
        os.close(args.ready_fd)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL us when our parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(1)


def _stop_on_eof(loop: asyncio.AbstractEventLoop) -> None:
    if not os.read(sys.stdin.fileno(), 4096):
        loop.stop()
