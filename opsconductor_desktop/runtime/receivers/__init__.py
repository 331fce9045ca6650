"""Alert sources that listen (SNMP traps, syslog, webhooks): shared machinery in ``base``."""
