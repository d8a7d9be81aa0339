"""Cabinet tests: the real SerialLockBus and the shipped SimLockBoard on a pty."""
