"""The pure protocol logic of a minikv node: no sockets, no clocks, no threads, no printing.

Everything in this package takes messages and the current time (`now`) as arguments and returns
replies and messages to send. The runtimes in `minikv.runtime` move the bytes and keep the time:
real processes over TCP, or the deterministic simulator. Because both drive this same code, a
failure replayed in the simulator is a failure of the real thing.
"""
