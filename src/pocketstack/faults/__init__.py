"""Fault injection: rules that make the cloud's APIs slow, fail, drop connections or fail
asynchronous work, so that clients can test their error handling (docs/testing.md)."""
