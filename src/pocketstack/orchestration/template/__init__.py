"""HOT templates: versions, intrinsic functions, parameters and the parsed template."""
