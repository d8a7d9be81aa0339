"""The Kivy touch UI. Importing this package does not import Kivy: ``ui.bootstrap`` must run first."""

# `kiosk run`'s exit status when a technician chose "exit to a technician shell": packaging/session's
# hall-kiosk-session opens a terminal on it (EX_TEMPFAIL: nothing else in the kiosk exits with it). Here, Kivy-free,
# so the app that sets it and the entry point that returns it share it without importing each other.
TECH_SHELL_EXIT = 75
