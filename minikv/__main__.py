"""Command line: `python -m minikv node|cluster|info ...`.

    python -m minikv node --port 3000              # one node in the foreground
    python -m minikv cluster --nodes 3             # a LocalCluster until Ctrl-C
    python -m minikv info 127.0.0.1:3000 statistics
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from minikv.runtime.process import add_node_arguments, run_node


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minikv", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_node_arguments(commands.add_parser("node", help="run one node"))
    cluster = commands.add_parser("cluster", help="run a local cluster until Ctrl-C")
    cluster.add_argument("--nodes", type=int, default=3)
    info = commands.add_parser("info", help="asinfo-style query of one node")
    info.add_argument("address", help="HOST:PORT")
    info.add_argument("commands", nargs="*", default=["statistics"])
    args = parser.parse_args(argv)
    if args.command == "node":
        return run_node(args)
    if args.command == "cluster":
        return run_cluster(args.nodes)
    return run_info(args.address, args.commands)


def run_cluster(nodes: int) -> int:
    from minikv.runtime.local_cluster import LocalCluster

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops us like Ctrl-C
    # and Ctrl-C itself, even if we were started with SIGINT ignored (a shell's background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with LocalCluster(nodes=nodes) as cluster:
        try:  # from the first line printed: a Ctrl-C may follow it at once
            for node_id, (host, port) in zip(cluster.node_ids, cluster.hosts):
                print(f"{node_id} listening on {host}:{port}")
            print("Ctrl-C stops the cluster.", flush=True)
            while True:  # not signal.pause(): the kernel may hand Ctrl-C to another thread (the
                time.sleep(0.2)  # spawner's), and pause() in this one would never return
        except KeyboardInterrupt:
            pass
    print("cluster stopped", flush=True)
    return 0


def run_info(address: str, commands: list[str]) -> int:
    from minikv.core.messages import Info
    from minikv.runtime.transport import NoConnection, ReplyLost, TcpTransport

    host, _, port = address.rpartition(":")
    if not port.isdecimal() or not 0 < int(port) < 65536:
        print(f"error: {address!r} is not HOST:PORT with a port from 1 to 65535", file=sys.stderr)
        return 2
    transport = TcpTransport()
    try:
        reply = transport.call((host or "127.0.0.1", int(port)), Info(tuple(commands)), 2.0)
    except (NoConnection, ReplyLost) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        transport.close()
    for command in commands:
        answer = reply.result[command]
        print(answer.replace(";", "\n") if command == "statistics" or command.startswith("namespace/") else answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
