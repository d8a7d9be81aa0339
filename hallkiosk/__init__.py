"""The composition root and the command line: builds the core from the config with real or simulated parts.

It lives outside ``kiosk/`` because it must import drivers and the platform
client, which the core may not.
"""
