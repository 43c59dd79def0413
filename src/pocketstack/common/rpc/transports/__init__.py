"""Transports move RPC messages: ``inproc`` (one process) and ``amqp`` (RabbitMQ)."""
