"""The tables of the isolation matrix (tests/functional/test_isolation_matrix.py).

``matrix`` holds the machinery (personas, expectations, operations, the world the cells
run in); one module per service declares that service's resources and operations.
"""
