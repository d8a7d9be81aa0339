"""The Kivy touch UI. Importing this package does not import Kivy: ``ui.bootstrap`` must run first."""
