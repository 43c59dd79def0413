"""sampleapp: publishes files to object storage and gives each team a private network."""
