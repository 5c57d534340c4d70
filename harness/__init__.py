"""What tests and benchmarks share: platform fakes (``harness.fakes``) and
helpers that start the product, serve an app, or make a private database
(``harness.helpers``). Not product code; not under tests/ so that bench/ does
not import tests."""
