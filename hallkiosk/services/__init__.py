"""The runtime's services, composed by :class:`hallkiosk.runtime.Runtime` and reached as its typed attributes.

``rt.parts`` (:mod:`.parts`) owns the core services, built from the App on first use. What the screens call is one
service per concern, each handed the runtime as :class:`core.Core` (what they share, typed) rather than inheriting
it: ``rt.citizen`` (pickup, drop-off, cases, help, receipts), ``rt.filing`` (matters, guides, eligibility,
applications, bundles, 帮办), ``rt.feedback`` (ratings and 12345), ``rt.doors`` (the door screen's wait and the
doors loop), ``rt.staff``, ``rt.tech`` and ``rt.sims``. A new service the screens call is a class here, composed
on the runtime and typed against ``Core``.
"""
