"""The runtime's services, composed by :class:`hallkiosk.runtime.Runtime` and reached as its typed attributes.

Each service is handed what it uses (the config, the lazily built App, the ready event, callbacks) rather than
inheriting it: ``rt.staff``, ``rt.tech`` and ``rt.sims``; what they share is typed by :class:`core.Core`. The citizen
operations still live on the runtime (runtime_ops.py, runtime_services.py) until they move here too.
"""
