"""Device protocol drivers: SNMP, SSH, ICMP/TCP reachability.

Each driver imports only the standard library, its protocol library and
``opsconductor_desktop.domain``; none knows the database, the services or the GUI.
Import the submodule you need (``drivers.snmp``, ``drivers.ssh``, ``drivers.icmp``,
``drivers.tcp``): this package imports none of them, so no protocol library is loaded
until it is used.
"""
