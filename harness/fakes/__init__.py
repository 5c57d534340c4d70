"""Local stand-ins for the outside world, used by tests and benches: a
rate-limited messaging platform over real HTTP on loopback (``channel``),
people and due outbox rows (``population``) and a dispatcher process that can
be SIGKILLed (``dispatch_worker``)."""
