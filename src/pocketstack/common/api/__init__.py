"""HTTP machinery shared by every service API: routing, errors, paging, versions."""
