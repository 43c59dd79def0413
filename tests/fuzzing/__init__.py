"""The API fuzzer's parts: which routes a cloud serves (:mod:`.routes`), the resources
their path parameters point at (:mod:`.world`), what to send (:mod:`.strategies`) and
what an answer must look like (:mod:`.formats`).  ``tests/functional/test_fuzz_bodies.py``
puts them together."""
