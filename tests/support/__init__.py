"""What many test folders share: a kiosk.toml from overrides, the command line run one way, the platform fixtures."""
