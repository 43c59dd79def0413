"""Volume backends: the replaceable edge that stores volume and snapshot data."""
