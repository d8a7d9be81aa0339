"""Hall Kiosk core: domain, flows, storage and ports. Imports no UI, driver or SOAP library."""

__version__ = "0.1.0"
