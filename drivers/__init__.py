"""Drivers: the ports of kiosk.ports implemented for real hardware, with shipped simulators."""
