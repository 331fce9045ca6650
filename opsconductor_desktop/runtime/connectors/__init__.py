"""The connector engine: one engine runs every manifest (``domain.connectors``).

``mapping`` turns a source's answer into alerts, ``http_poll`` fetches it with timeouts,
retries and pagination, ``breaker`` decides whether a failing source is asked at all,
``targets`` matches hosts to the inventory, ``webhook`` listens for pushed alerts and
``receivers`` is the hook through which every listening kind gets its receiver.
"""
